"""Queue messages in the caller's transaction; deliver them over SMTP with backoff.

Queuing in the same transaction as the decision means a message exists exactly when the
decision does; delivery happens later (`tutela outbox send`, the worker) and is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.audit.service import Event, record
from tutela.crypto.keyring import Keyring
from tutela.db import session_scope, utc_naive
from tutela.outbox.models import OutboxMessage
from tutela.settings import Webhook

if TYPE_CHECKING:
    from tutela.context import Context

__all__ = [
    "MAX_ATTEMPTS",
    "SmtpSettings",
    "deliver",
    "deliver_due",
    "enqueue_email",
    "enqueue_webhook",
]

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


def enqueue_webhook(
    *, session: Session, keyring: Keyring, recipient: str, title: str, payload: dict, at: datetime
) -> OutboxMessage:
    """A notice for a recipient's webhook (`Settings.webhooks`): its payload may hold personal
    data (a corrected value), so it is sealed, and dropped once delivered."""
    message = enqueue_email(
        session=session, keyring=keyring, to=recipient, subject=title, body="", at=at
    )
    message.channel = "webhook"
    _, body_label = _labels(message.id)
    message.body = keyring.seal_note(orjson.dumps(payload).decode(), label=body_label)
    return message


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
    *,
    session: Session,
    keyring: Keyring,
    smtp: SmtpSettings,
    webhooks: dict[str, Webhook],
    policy_version: str,
    at: datetime,
) -> dict[str, int]:
    """Send every message due; a failure is retried later, twice as late each time. Each
    notice to a recipient (Art. 19) is audited, delivered or not."""
    moment = utc_naive(at)
    due = session.scalars(  # rows another sender holds are theirs to send (PostgreSQL)
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= moment)
        .with_for_update(skip_locked=True)
    ).all()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    emails = [m for m in due if m.channel == "email"]
    if emails:
        _send_emails(emails, keyring, smtp, moment, counts)
    notices = []
    for message in (m for m in due if m.channel == "webhook"):
        recipient = _post_webhook(message, keyring, webhooks, moment, counts)
        notices.append(
            Event(
                "outbox",
                "notify_recipient",
                "done" if message.status == "sent" else "failed",
                reason="" if message.status == "sent" else (message.last_error or ""),
                detail={"recipient": recipient, "message": message.id, "notice": message.subject},
            )
        )
    if notices:
        record(session, notices, at=at, policy_version=policy_version)
    return counts


def _send_emails(
    due: list[OutboxMessage], keyring: Keyring, smtp: SmtpSettings, moment: datetime, counts
) -> None:
    try:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=10)
    except OSError as exc:
        for message in due:
            _failed(message, f"cannot reach the SMTP server ({type(exc).__name__})", moment, counts)
        return
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
            _sent(message, moment, counts)


def _post_webhook(
    message: OutboxMessage,
    keyring: Keyring,
    webhooks: dict[str, Webhook],
    moment: datetime,
    counts: dict,
) -> str:
    """POST the notice, signed: `X-Tutela-Signature: sha256=HMAC(secret, timestamp.body)`;
    returns the recipient's id."""
    to_label, body_label = _labels(message.id)
    recipient = keyring.open_note(message.recipient, label=to_label)
    hook = webhooks.get(recipient)
    if hook is None:
        _failed(message, f"no webhook configured for '{recipient}'", moment, counts)
        return recipient
    body = keyring.open_note(message.body, label=body_label).encode()
    stamp = str(int(moment.replace(tzinfo=UTC).timestamp()))
    signature = hmac.new(
        hook.secret.get_secret_value().encode(), stamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    request = urllib.request.Request(
        hook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Tutela-Timestamp": stamp,
            "X-Tutela-Signature": f"sha256={signature}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    except (OSError, ValueError) as exc:  # HTTPError (non-2xx) is an OSError too
        _failed(message, f"webhook failed ({type(exc).__name__})", moment, counts)
        return recipient
    _sent(message, moment, counts)
    return recipient


def _sent(message: OutboxMessage, moment: datetime, counts: dict) -> None:
    message.status, message.sent_at, message.body = "sent", moment, None
    message.attempts += 1
    counts["sent"] += 1


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
        return deliver(
            session=session,
            keyring=ctx.keyring(session),
            smtp=smtp,
            webhooks=s.webhooks,
            policy_version=ctx.policy.version,
            at=at,
        )


def _failed(message: OutboxMessage, error: str, moment: datetime, counts: dict) -> None:
    message.attempts += 1
    message.last_error = error  # names the failure, never the address
    if message.attempts >= MAX_ATTEMPTS:
        message.status, message.body = "failed", None  # what was not delivered is not kept
        counts["failed"] += 1
    else:
        message.next_attempt_at = moment + timedelta(minutes=2 ** (message.attempts - 1))
        counts["retry"] += 1
