"""Reports: aggregates for the commissioner, the auditors and finance (the funder's quarterly
return, the approval trail, commitments ageing, spend by organisation) and the CSV exports.
Every figure is computed in SQL; nothing here shows a name, an address or a phone number."""
