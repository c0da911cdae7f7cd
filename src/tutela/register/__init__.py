"""Accountability documents derived from the policy: the Art. 30 register."""
