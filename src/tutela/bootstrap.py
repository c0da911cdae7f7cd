"""`tutela init`: schema, key material and the first administrator, safe to run again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from tutela.access.flows import add_principal
from tutela.access.gate import Actor
from tutela.access.models import Principal
from tutela.audit.keying import key_legacy_trail
from tutela.audit.service import ensure_head
from tutela.audit.verify import VerifyReport
from tutela.clock import now
from tutela.context import Context
from tutela.crypto.keyring import initialise_keyring
from tutela.crypto.master_key import create_key_file
from tutela.crypto.signing import create_test_pair
from tutela.db import session_scope
from tutela.migrations import upgrade
from tutela.policy import policy_text
from tutela.register.flows import record_first
from tutela.settings import Settings
from tutela.web.accounts import one_time_password, set_password

__all__ = ["ADMIN", "InitReport", "initialise"]

ADMIN = "admin"


@dataclass
class InitReport:
    key_file_created: bool
    keyring_created: bool
    admin_key: str | None  # shown once, when the administrator is created
    opengdpr_test_pair_created: bool = False
    admin_password: str | None = None  # the administrator's console password, shown once
    admin_name: str = ADMIN
    # The check of a trail written before chains were keyed, when there was one to key.
    legacy_trail: VerifyReport | None = None

    def as_dict(self) -> dict:
        return {
            "key_file_created": self.key_file_created,
            "keyring_created": self.keyring_created,
            "admin_key": self.admin_key,
            "admin_password": self.admin_password,
            "opengdpr_test_pair_created": self.opengdpr_test_pair_created,
            "trail_keyed": self.legacy_trail.intact if self.legacy_trail else None,
        }


def _opengdpr_test_pair(settings: Settings) -> bool:
    """A self-signed OpenGDPR key and certificate, when the settings leave both at their
    defaults and neither file exists: enough to try the door, never for production."""
    configured = {"opengdpr_key_file", "opengdpr_certificate_file"} & settings.model_fields_set
    key, certificate = settings.opengdpr_key_file, settings.opengdpr_certificate_file
    if configured or key.exists() or certificate.exists():
        return False
    create_test_pair(
        key_file=key, certificate_file=certificate, domain=settings.opengdpr_domain or "localhost"
    )
    return True


def initialise(ctx: Context) -> InitReport:
    settings = ctx.settings
    key_file_created = False
    if settings.master_key is None and not settings.key_file.exists():
        create_key_file(settings.key_file)
        key_file_created = True
    keyset = ctx.keyset()
    pair_created = _opengdpr_test_pair(settings)
    upgrade(ctx.engine)
    with session_scope(ctx.engine) as session:
        keyring_created = initialise_keyring(session, keyset)
        ensure_head(session)
        record_first(
            session=session,
            policy=ctx.policy,
            text=policy_text(settings.policy_file),
            actor=Actor.console(),
            at=now(),
        )
        legacy = key_legacy_trail(session, ctx.policy, keyset, actor=Actor.console().name)
        admin_key = admin_password = None
        if session.scalar(select(Principal.id).where(Principal.name == ADMIN)) is None:
            admin, admin_key = add_principal(
                session=session,
                policy=ctx.policy,
                actor=Actor.console(),
                name=ADMIN,
                roles=ctx.policy.administrator_roles,
                active_from=None,
                active_until=None,
                at=now(),
            )
            admin_password = one_time_password()
            set_password(session=session, policy=ctx.policy, principal=admin,
                         password=admin_password, by=Actor.console().name, at=now())  # fmt: skip
    ctx.follow_policy(now=True)
    return InitReport(
        key_file_created,
        keyring_created,
        admin_key,
        opengdpr_test_pair_created=pair_created,
        legacy_trail=legacy,
        admin_password=admin_password,
    )
