"""Personal data sealed at rest: the data keys (keys), the sealed columns and fields
(columns) and `rotate-data-key` (cli)."""
