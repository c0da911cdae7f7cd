"""What signing in to the console keeps: a principal's password (argon2) and optional TOTP
secret (sealed), and the open sessions, known by the hash of their cookie only; and what
lets a person follow the request they made on the portal: a grant, known by its hash."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["ConsoleCredential", "ConsoleSession", "PortalGrant"]


class ConsoleCredential(Base):
    __tablename__ = "console_credentials"

    principal_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True
    )
    password_hash: Mapped[str] = mapped_column(String(128))  # argon2id, with its salt
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed; None: no TOTP
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # no code is taken twice
    set_at: Mapped[datetime] = mapped_column(DateTime)


class ConsoleSession(Base):
    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie
    principal_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), index=True
    )
    csrf: Mapped[str] = mapped_column(String(64))  # what every form of the session carries
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)


class PortalGrant(Base):
    """The browser that made a portal request holds its token: it alone follows the request,
    proves the person's code and, once answered, downloads the copy."""

    __tablename__ = "portal_grants"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("rights_requests.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
