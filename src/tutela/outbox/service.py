"""Queue messages in the caller's transaction; deliver them over SMTP with backoff.

Queuing in the same transaction as the decision means a message exists exactly when the
decision does; delivery happens later (`tutela outbox send`, the worker) and is retried.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.crypto.keyring import Keyring
from tutela.db import session_scope, utc_naive
from tutela.outbox.models import OutboxMessage

if TYPE_CHECKING:
    from tutela.context import Context

__all__ = ["MAX_ATTEMPTS", "SmtpSettings", "deliver", "deliver_due", "enqueue_email"]

MAX_ATTEMPTS = 8  # backoff 1, 2, 4 ... 128 minutes: about four hours in all


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    starttls: bool = False
    user: str | None = None
    password: str | None = None


def _labels(message_id: int) -> tuple[str, str]:
    return f"outbox-to:{message_id}", f"outbox-body:{message_id}"


def enqueue_email(
    *, session: Session, keyring: Keyring, to: str, subject: str, body: str, at: datetime
) -> OutboxMessage:
    message = OutboxMessage(
        channel="email",
        recipient=b"",
        subject=subject,
        body=None,
        status="pending",
        attempts=0,
        next_attempt_at=utc_naive(at),
        created_at=utc_naive(at),
    )
    session.add(message)
    session.flush()
    to_label, body_label = _labels(message.id)
    message.recipient = keyring.seal_note(to, label=to_label)
    message.body = keyring.seal_note(body, label=body_label)
    return message


def deliver(
    *, session: Session, keyring: Keyring, smtp: SmtpSettings, at: datetime
) -> dict[str, int]:
    """Send every message due; a failure is retried later, twice as late each time."""
    moment = utc_naive(at)
    due = session.scalars(  # rows another sender holds are theirs to send (PostgreSQL)
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= moment)
        .with_for_update(skip_locked=True)
    ).all()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not due:
        return counts
    try:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=10)
    except OSError as exc:
        for message in due:
            _failed(message, f"cannot reach the SMTP server ({type(exc).__name__})", moment, counts)
        return counts
    with server:
        if smtp.starttls:
            server.starttls()
        if smtp.user:
            server.login(smtp.user, smtp.password or "")
        for message in due:
            to_label, body_label = _labels(message.id)
            email = EmailMessage()
            email["From"] = smtp.sender
            email["To"] = keyring.open_note(message.recipient, label=to_label)
            email["Subject"] = message.subject
            email.set_content(keyring.open_note(message.body, label=body_label))
            try:
                server.send_message(email)
            except smtplib.SMTPException as exc:
                _failed(
                    message, f"refused by the SMTP server ({type(exc).__name__})", moment, counts
                )
                continue
            message.status, message.sent_at, message.body = "sent", moment, None
            message.attempts += 1
            counts["sent"] += 1
    return counts


def deliver_due(ctx: Context, *, at: datetime) -> dict[str, int]:
    """`deliver` in a transaction of its own, through the SMTP server of the settings."""
    s = ctx.settings
    smtp = SmtpSettings(
        host=s.smtp_host,
        port=s.smtp_port,
        sender=s.smtp_sender or ctx.policy.controller.email,
        starttls=s.smtp_starttls,
        user=s.smtp_user,
        password=s.smtp_password.get_secret_value() if s.smtp_password else None,
    )
    with session_scope(ctx.engine) as session:
        return deliver(session=session, keyring=ctx.keyring(session), smtp=smtp, at=at)


def _failed(message: OutboxMessage, error: str, moment: datetime, counts: dict) -> None:
    message.attempts += 1
    message.last_error = error  # names the failure, never the address
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        counts["failed"] += 1
    else:
        message.next_attempt_at = moment + timedelta(minutes=2 ** (message.attempts - 1))
        counts["retry"] += 1
