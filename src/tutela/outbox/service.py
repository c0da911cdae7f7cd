"""Queue messages in the caller's transaction; deliver them over SMTP with backoff.

Queuing in the same transaction as the decision means a message exists exactly when the
decision does; delivery happens later (`tutela outbox send`, the worker) and is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tutela.audit.service import Event, record
from tutela.crypto.keyring import Keyring
from tutela.crypto.signing import Signer, SigningKeyError
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
    "enqueue_callback",
    "enqueue_email",
    "enqueue_webhook",
]

CLAIM_SECONDS = 600  # a claimed message not marked by then is taken again (its sender died)
CLAIM_BATCH = 20  # messages claimed at a time: even at 10 s each, sent before the claim ends
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


def _attachment_label(message_id: int) -> str:
    return f"outbox-attachment:{message_id}"


def enqueue_callback(
    *, session: Session, keyring: Keyring, url: str, title: str, body: str, at: datetime
) -> OutboxMessage:
    """An OpenGDPR status callback to `url`, signed with the processor key when sent."""
    message = enqueue_email(
        session=session, keyring=keyring, to=url, subject=title, body=body, at=at
    )
    message.channel = "callback"
    return message


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
    *,
    session: Session,
    keyring: Keyring,
    to: str,
    subject: str,
    body: str,
    at: datetime,
    attachment: tuple[str, str, str] | None = None,
    tag: str | None = None,
    subject_id: str | None = None,
) -> OutboxMessage:
    """An e-mail, with an optional attachment (file name, media type, text), all sealed.
    A `tag` (what it is for) and `subject_id` (to whom) have its delivery audited."""
    message = OutboxMessage(
        channel="email",
        tag=tag,
        subject_id=subject_id,
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
    if attachment is not None:
        message.attachment = keyring.seal_note(
            orjson.dumps(attachment).decode(), label=_attachment_label(message.id)
        )
    return message


NOT_SENT = "not sent"


@dataclass
class _Claimed:
    """A message taken for sending, opened in memory; no transaction is open while it goes."""

    id: int
    channel: str
    to: str
    subject: str
    body: str
    attachment: tuple[str, str, str] | None = None
    error: str | None = NOT_SENT  # why it was not delivered; None once delivered


def deliver(
    *,
    engine: Engine,
    keyring: Callable[[Session], Keyring],
    smtp: SmtpSettings,
    webhooks: dict[str, Webhook],
    policy_version: str,
    at: datetime,
    signer: Callable[[], Signer | None] = lambda: None,
) -> dict[str, int]:
    """Send every message due; a failure is retried later, twice as late each time. Each
    notice to a recipient (Art. 19) and each OpenGDPR callback (signed by `signer`) is
    audited, delivered or not.

    Messages are claimed in one short transaction, sent with none open (a slow SMTP server or
    webhook holds no lock), then marked in another. A sender that dies between the two leaves
    its claims to be taken again after `CLAIM_SECONDS`.
    """
    moment = utc_naive(at)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    while claimed := _claim(engine, keyring, moment):  # `CLAIM_BATCH` at a time
        try:
            emails = [m for m in claimed if m.channel == "email"]
            if emails:
                _send_emails(emails, smtp)
            for message in claimed:
                if message.channel == "webhook":
                    _post_webhook(message, webhooks, moment)
                elif message.channel == "callback":
                    _post_callback(message, signer)
        finally:  # what went out is marked, whatever failed after it
            _mark(engine, claimed, moment, counts, at=at, policy_version=policy_version)
    return counts


def _mark(
    engine: Engine,
    claimed: list[_Claimed],
    moment: datetime,
    counts: dict,
    *,
    at: datetime,
    policy_version: str,
) -> None:
    claim_ends = moment + timedelta(seconds=CLAIM_SECONDS)
    with session_scope(engine) as session:
        notices = []
        for sent in claimed:
            message = session.get(OutboxMessage, sent.id)
            if message.status != "sending" or message.next_attempt_at != claim_ends:
                continue  # claimed again by another sender since: its result stands
            if sent.error is None:
                message.status, message.sent_at, message.body = "sent", moment, None
                message.attachment = None
                message.attempts += 1
                counts["sent"] += 1
            else:
                _failed(message, sent.error, moment, counts)
            if message.tag is not None:  # never the address: the person's id and the tag
                notices.append(
                    Event(
                        "outbox",
                        "deliver_message",
                        "done" if sent.error is None else "failed",
                        subject_id=message.subject_id,
                        reason=sent.error or "",
                        detail={"message": sent.id, "tag": message.tag},
                    )
                )
            elif sent.channel in _AUDITED:
                notices.append(
                    Event(
                        "outbox",
                        _AUDITED[sent.channel],
                        "done" if sent.error is None else "failed",
                        reason=sent.error or "",
                        detail={"recipient": sent.to, "message": sent.id, "notice": sent.subject},
                    )
                )
        if notices:
            record(session, notices, at=at, policy_version=policy_version)


def _claim(engine: Engine, keyring: Callable[[Session], Keyring], moment: datetime) -> list:
    with session_scope(engine) as session:
        due = session.scalars(  # rows another sender holds are theirs (PostgreSQL)
            select(OutboxMessage)
            .where(
                OutboxMessage.status.in_(("pending", "sending")),
                OutboxMessage.next_attempt_at <= moment,
            )
            .order_by(OutboxMessage.id)
            .limit(CLAIM_BATCH)  # sent well within the claim's time
            .with_for_update(skip_locked=True)
        ).all()
        keys = keyring(session) if due else None
        claimed = []
        for message in due:
            to_label, body_label = _labels(message.id)
            attached = message.attachment and orjson.loads(
                keys.open_note(message.attachment, label=_attachment_label(message.id))
            )
            claimed.append(
                _Claimed(
                    message.id,
                    message.channel,
                    keys.open_note(message.recipient, label=to_label),
                    message.subject,
                    keys.open_note(message.body, label=body_label) if message.body else "",
                    tuple(attached) if attached else None,
                )
            )
            message.status = "sending"
            message.next_attempt_at = moment + timedelta(seconds=CLAIM_SECONDS)
        return claimed


def _send_emails(due: list[_Claimed], smtp: SmtpSettings) -> None:
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.user:
                server.login(smtp.user, smtp.password or "")
            for message in due:
                email = EmailMessage()
                email["From"] = smtp.sender
                email["To"] = message.to
                email["Subject"] = message.subject
                email.set_content(message.body)
                if message.attachment is not None:
                    name, media, content = message.attachment
                    email.add_attachment(content, subtype=media.split("/", 1)[1], filename=name)
                try:
                    server.send_message(email)
                except smtplib.SMTPException as exc:  # this message refused; go on
                    message.error = f"refused by the SMTP server ({type(exc).__name__})"
                else:
                    message.error = None
    except Exception as exc:  # the server itself failed, or the connection: none else goes
        for message in due:
            if message.error == NOT_SENT:
                message.error = f"cannot reach the SMTP server ({type(exc).__name__})"


def _post_webhook(message: _Claimed, webhooks: dict[str, Webhook], moment: datetime) -> None:
    """POST the notice, signed: `X-Tutela-Signature: sha256=HMAC(secret, timestamp.body)`."""
    hook = webhooks.get(message.to)
    if hook is None:
        message.error = f"no webhook configured for '{message.to}'"
        return
    body = message.body.encode()
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
        with _OPENER.open(request, timeout=10) as response:
            response.read()
    except Exception as exc:  # non-2xx, unreachable, not HTTP at all: retried later
        message.error = f"webhook failed ({type(exc).__name__})"
    else:
        message.error = None


def _post_callback(message: _Claimed, signer: Callable[[], Signer | None]) -> None:
    """POST an OpenGDPR status callback, signed: `X-OpenGDPR-Signature` over the raw body,
    `X-OpenGDPR-Processor-Domain` the domain of the certificate (OpenGDPR §8.6). The key is
    loaded only now: a broken one fails callbacks, never the e-mails beside them."""
    try:
        key = signer()
    except SigningKeyError as exc:
        message.error = f"the OpenGDPR signing key cannot be used ({type(exc).__name__})"
        return
    if key is None:
        message.error = "no OpenGDPR signing key is configured"
        return
    body = message.body.encode()
    request = urllib.request.Request(
        message.to,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-OpenGDPR-Processor-Domain": key.domain,
            "X-OpenGDPR-Signature": key.sign(body),
        },
    )
    try:
        with _OPENER.open(request, timeout=10) as response:
            response.read()
    except Exception as exc:  # non-2xx, unreachable: retried later
        message.error = f"callback failed ({type(exc).__name__})"
    else:
        message.error = None


_AUDITED = {"webhook": "notify_recipient", "callback": "notify_controller"}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A notice or callback goes where it was addressed, never where a reply redirects it."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def deliver_due(ctx: Context, *, at: datetime) -> dict[str, int]:
    """`deliver` through the SMTP server and webhooks of the settings."""
    s = ctx.settings
    smtp = SmtpSettings(
        host=s.smtp_host,
        port=s.smtp_port,
        sender=s.smtp_sender or ctx.policy.controller.email,
        starttls=s.smtp_starttls,
        user=s.smtp_user,
        password=s.smtp_password.get_secret_value() if s.smtp_password else None,
    )
    return deliver(
        engine=ctx.engine,
        keyring=ctx.keyring,
        smtp=smtp,
        webhooks=s.webhooks,
        policy_version=ctx.policy.version,
        at=at,
        signer=ctx.opengdpr_signer,
    )


def _failed(message: OutboxMessage, error: str, moment: datetime, counts: dict) -> None:
    message.attempts += 1
    message.last_error = error  # names the failure, never the address
    if message.attempts >= MAX_ATTEMPTS:  # what was not delivered is not kept
        message.status, message.body, message.attachment = "failed", None, None
        counts["failed"] += 1
    else:
        message.status = "pending"
        message.next_attempt_at = moment + timedelta(minutes=2 ** (message.attempts - 1))
        counts["retry"] += 1
