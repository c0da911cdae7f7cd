"""Tutela: a company's data protection policy, turned into running software."""

__version__ = "0.1.0"
