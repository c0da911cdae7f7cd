"""Every domain's tables, imported in one place so that metadata and migrations see them all."""

from tutela.access.models import AccessReport, ApiKey, Disclosure, Principal
from tutela.audit.models import AuditEvent, AuditEventSubject, AuditHead
from tutela.breaches.models import Breach, BreachNotification, BreachPerson
from tutela.consent.models import ChoiceProof, Consent, Objection, Suppression
from tutela.crypto.models import DataKey, MasterKeyRecord, WrappedKey
from tutela.db import Base
from tutela.outbox.models import OutboxMessage
from tutela.register.models import PolicyNotice, PolicyVersion
from tutela.requests.models import PostMortemDirective, RightsRequest
from tutela.requests.verification import Verification
from tutela.retention.models import AnonymisedCount, LegalHold
from tutela.subjects.models import (
    Connection,
    DataLimit,
    ErasureReceipt,
    Payment,
    PersonalValue,
    Subject,
)
from tutela.web.models import ConsoleCredential, ConsoleSession, PortalGrant

__all__ = [
    "AccessReport",
    "AnonymisedCount",
    "ApiKey",
    "AuditEvent",
    "AuditEventSubject",
    "AuditHead",
    "Base",
    "Breach",
    "BreachNotification",
    "BreachPerson",
    "ChoiceProof",
    "Connection",
    "Consent",
    "ConsoleCredential",
    "ConsoleSession",
    "DataKey",
    "DataLimit",
    "Disclosure",
    "ErasureReceipt",
    "LegalHold",
    "MasterKeyRecord",
    "Objection",
    "OutboxMessage",
    "Payment",
    "PersonalValue",
    "PolicyNotice",
    "PolicyVersion",
    "PortalGrant",
    "PostMortemDirective",
    "Principal",
    "RightsRequest",
    "Subject",
    "Suppression",
    "Verification",
    "WrappedKey",
]
