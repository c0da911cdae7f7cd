"""Encryption at rest: master key, per-subject data keys, blind index, rotation, shredding."""
