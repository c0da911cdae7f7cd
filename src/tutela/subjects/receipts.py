"""Proof of erasure: one receipt per erasure, by request or by retention, holding no personal
value. The trail event that records the answer carries the receipt's digest, so a receipt
altered later no longer matches its trail."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.audit.models import AuditEvent
from tutela.db import utc_naive
from tutela.errors import NotFound
from tutela.subjects.models import ErasureReceipt

__all__ = ["by_retention", "digest", "issue", "of_request", "shown"]


def digest(body: dict[str, Any]) -> str:
    """SHA-256 of the receipt's canonical JSON."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def issue(
    *,
    session: Session,
    at: datetime,
    policy_version: str,
    erased: dict[str, int],
    events: list[int],
    request_id: str | None = None,
    external_id: str | None = None,
    rule: str | None = None,
    kept: list[dict[str, Any]] = (),
    data_keys: list[str] = (),
    subjects: int = 1,
    records: int | None = None,
    as_of: str | None = None,
) -> ErasureReceipt:
    """Record a receipt: what was erased (by category: its records for one person, the
    people it was erased for in a retention batch, whose `records` is then the rows removed),
    what was kept and until when, the ids of the data keys destroyed, the trail events that
    record the erasure."""
    receipt_id = uuid.uuid4().hex
    body = {
        "receipt": receipt_id,
        "at": utc_naive(at).isoformat() + "Z",
        "by": "request" if request_id else "retention",
        "request": request_id,
        "external_id": external_id,
        "rule": rule,
        "as_of": as_of,
        "subjects": subjects,
        "erased": [
            {"category": c, "subjects" if request_id is None else "records": n}
            for c, n in sorted(erased.items())
        ],
        "records": records,
        "kept": list(kept),
        "data_keys_destroyed": sorted(data_keys),
        "events": sorted(events),
        "policy_version": policy_version,
    }
    receipt = ErasureReceipt(
        id=receipt_id,
        at=utc_naive(at),
        request_id=request_id,
        rule=rule,
        policy_version=policy_version,
        body=body,
    )
    session.add(receipt)
    session.flush()
    return receipt


def of_request(*, session: Session, request_id: str) -> list[ErasureReceipt]:
    """A request's receipts, oldest first: its answer's, then any erasure it asked for that
    a legal hold suspended until it was lifted."""
    found = list(
        session.scalars(
            select(ErasureReceipt)
            .where(ErasureReceipt.request_id == request_id)
            .order_by(ErasureReceipt.at, ErasureReceipt.id)
        )
    )
    if not found:
        raise NotFound(f"request {request_id} has no erasure receipt")
    return found


def by_retention(
    *, session: Session, since: datetime | None = None, rule: str | None = None
) -> list[ErasureReceipt]:
    """The receipts retention runs issued, oldest first."""
    query = (
        select(ErasureReceipt)
        .where(ErasureReceipt.request_id.is_(None))
        .order_by(ErasureReceipt.at, ErasureReceipt.id)
    )
    if since is not None:
        query = query.where(ErasureReceipt.at >= utc_naive(since))
    if rule is not None:
        query = query.where(ErasureReceipt.rule == rule)
    return list(session.scalars(query))


def shown(session: Session, receipt: ErasureReceipt) -> dict[str, Any]:
    """The receipt with its digest and, for each trail event it names, the event's hash."""
    hashes = dict(
        session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(
                AuditEvent.seq.in_(receipt.body["events"])
            )
        ).all()
    )
    return {
        **receipt.body,
        "digest": digest(receipt.body),
        "events": [{"seq": seq, "hash": hashes.get(seq)} for seq in receipt.body["events"]],
    }
