"""Running Relais: health and readiness, backups."""
