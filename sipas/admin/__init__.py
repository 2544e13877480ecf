"""Running the installation: dated settings, staff accounts, the roster, backups, restores and the check."""
