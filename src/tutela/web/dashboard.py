"""What the DPO's dashboard shows, each part only to a principal whose roles the policy lets
see it: the rights requests and their deadlines, the breaches and their clocks, the trail's
last checkpoint, the reports of improper access, the access review's flags, the notices to
recipients that failed, the retention forecast, the policy in force."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from tutela.access import oversight
from tutela.access.gate import Actor
from tutela.access.models import AccessReport
from tutela.audit.models import AuditEvent
from tutela.breaches import service as breaches
from tutela.context import Context
from tutela.db import session_scope
from tutela.outbox.models import OutboxMessage
from tutela.requests import permissions
from tutela.requests.service import list_requests
from tutela.web.forecast_chart import ForecastCache

__all__ = ["gather"]

_NOTICES = ("webhook", "callback")  # the channels that tell recipients and controllers


def gather(ctx: Context, actor: Actor, at: datetime, forecasts: ForecastCache) -> dict:
    policy, roles, today = ctx.policy, actor.roles, at.date()
    out: dict = {"policy_version": policy.version, "today": today}
    if policy.has_oversight(roles):
        out["forecast"] = forecasts.get(ctx, at)
    with session_scope(ctx.engine, write=False) as session:
        if permissions.steers(policy, actor):
            out["requests"] = [
                {"id": r.id, "type": r.type, "status": r.status, "due_on": r.due_on}
                | {"days_left": (r.due_on - today).days}
                for r in list_requests(session=session, on=today)
            ]
        if policy.handles_breaches(roles):
            out["breaches"] = [
                breaches.summary(session, None, policy, b, at)
                for b in breaches.every(session)
                if b.status != "closed"
            ]
        if policy.has_oversight(roles):
            out["checkpoint"] = session.execute(
                select(AuditEvent.at, AuditEvent.detail)
                .where(AuditEvent.action == "checkpoint", AuditEvent.outcome == "done")
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            ).first()
            out["reports"] = session.scalar(
                select(func.count()).select_from(AccessReport).where(AccessReport.status == "open")
            )
            out["flags"] = [
                (row["name"], flag)
                for row in oversight.review(session=session, policy=policy, at=at)
                for flag in row["flags"]
            ]
            out["failed_notices"] = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.channel.in_(_NOTICES), OutboxMessage.status == "failed")
            )
    return out
