"""Made-up words for the benchmark dataset: names, streets, agencies and suppliers that
belong to nobody. Phone numbers are in Ofcom's range reserved for drama (07700 900000 to
900999), addresses in an invented county ("Northshire", postcodes NS1 to NS9)."""

FIRST_NAMES = (
    "Alex", "Bea", "Cal", "Dana", "Eden", "Fern", "Gail", "Hana", "Iris", "Jo", "Kit", "Lia", "Mo", "Nell",
    "Ola", "Pat", "Quin", "Rae", "Sam", "Tess", "Uma", "Val", "Wren", "Yas", "Zoe",
)
SURNAMES = (
    "Ashdown", "Brookfield", "Carrow", "Dunmere", "Elsworth", "Fairbeck", "Glenholt", "Harrowby", "Ivelmoor",
    "Kestleigh", "Lowther", "Marnwick", "Northam", "Oakhurst", "Pellbridge", "Quarrendon", "Rushmere",
    "Saltwick", "Thornbury", "Umberleigh", "Wadebridge", "Yelverton",
)
STREETS = (
    "Example Street", "Sample Road", "Imaginary Lane", "Notreal Avenue", "Fable Close", "Figment Way",
    "Makebelieve Crescent", "Storybook Terrace", "Pretend Gardens", "Fictional Row",
)
TOWNS = ("Northby", "Eastwold", "Southmere", "Westholm", "Midcaster", "Kingsreach", "Fenbury", "Highdale")
SAFE_CONTACT_NOTES = (
    "Text before calling; only call after 6pm.",
    "Use the mobile only. Do not leave voicemail.",
    "Contact through the caseworker first.",
    "Safe to call weekdays 10am to 2pm.",
)
REFERRING_AGENCIES = (
    "Northshire Housing Options", "Northshire Victim Care Hub", "Northshire Adult Social Care",
    "Northshire Children's Services", "Northshire Independent Advocacy", "Midcaster GP Practice",
)
LEAD = "Northshire Women's Aid (bench)"
PARTNERS = (
    "Eastwold Advocacy Partnership (bench)", "Southmere Refuge Trust (bench)", "Westholm Safety Project (bench)",
    "Midcaster Outreach (bench)", "Kingsreach Family Support (bench)", "Fenbury Community Advice (bench)",
    "Highdale Stalking Support (bench)", "Northby Housing Advocacy (bench)", "Coastal Victim Services (bench)",
)
SUPPLIERS = (
    "Hilltop Hardware (bench)", "Brightway Security (bench)", "Corner Electrical (bench)",
    "Sentinel Devices (bench)", "Keyright Locksmith Supplies (bench)",
)
REJECTION_REASONS = {
    "unsuitable": "The property cannot take a fitted device; advice given instead.",
    "ineligible": "The referral is outside the scheme's area.",
    "other": "Equipment already provided by the housing provider.",
}
ADJUSTMENT_REASONS = ("Card transaction fees", "Bank charges for the month", "Correction of a rounding difference")
REVERSAL_REASON = "Posted twice by mistake"
