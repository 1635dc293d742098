"""How every report's CSV leaves the app: streamed through the one safe CSV writer
(`inventory.csv_files.csv_download`, which the admin pages below reports use too)."""
from inventory.csv_files import csv_download

__all__ = ["csv_download"]
