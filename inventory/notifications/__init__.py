"""The notification centre: what scheduled jobs found, delivered to the people who deal with
it (one notification per condition per person per day, closed once the condition is gone),
with an unread count in the navigation and, when configured, a short email."""
