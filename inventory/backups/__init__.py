"""Backups of the whole database: `flask backup` and `restore`, and the nightly job that
makes one and keeps the newest BACKUP_KEEP."""
