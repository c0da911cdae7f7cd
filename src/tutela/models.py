"""Every domain's tables, imported in one place so that metadata and migrations see them all."""

from tutela.access.models import ApiKey, Principal
from tutela.consent.models import Consent
from tutela.crypto.models import DataKey, WrappedKey
from tutela.db import Base
from tutela.subjects.models import Connection, Payment, PersonalValue, Subject

__all__ = [
    "ApiKey",
    "Base",
    "Connection",
    "Consent",
    "DataKey",
    "Payment",
    "PersonalValue",
    "Principal",
    "Subject",
    "WrappedKey",
]
