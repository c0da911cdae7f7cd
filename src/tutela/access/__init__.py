"""Principals, roles and the single authorisation gate (§8)."""
