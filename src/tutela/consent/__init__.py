"""Consent ledger (§12, §15)."""
