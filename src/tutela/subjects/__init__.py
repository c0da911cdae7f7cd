"""People concerned and their personal data (§5, §6, §17)."""
