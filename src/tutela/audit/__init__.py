"""Tamper-evident, append-only audit trail of every access and change (§8)."""
