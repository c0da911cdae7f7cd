"""`/console/policy/impact`: for staff, what a candidate policy file would do if activated,
as `tutela policy impact FILE --as-of DAY` computes it (people whose data falls due per
retention rule and action, reads that would start or stop being refused), with what it
changes against the policy in force, its errors by key path and its warnings. Nothing is
activated here: activation, with its reason and audit, stays on the CLI."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tutela.clock import today
from tutela.policy import PolicyError, lint, parse_policy
from tutela.register.diff import diff, unchanged
from tutela.register.impact import impact as forecast
from tutela.web.console_policy import show
from tutela.web.pages import posted
from tutela.wire import day_problem

__all__ = ["POLICY_LIMIT", "router"]

router = APIRouter(prefix="/console/policy", include_in_schema=False)
POLICY_LIMIT = 1_048_576  # bytes of a candidate policy file read (the bundled one is ~50 KiB)
SOURCE = "the uploaded file"  # how errors name it: the file's own name is the sender's


def _day(text: str) -> tuple[date | None, str | None]:
    """(the day asked for, None), today when empty; or (None, why it is refused)."""
    if not text.strip():
        return today(), None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None, "expected a date as YYYY-MM-DD"
    if problem := day_problem(day):
        return None, problem
    return day, None


async def _text(request: Request) -> tuple[str | None, str | None]:
    """(the uploaded file's text, None), or (None, why it cannot be read)."""
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile):
        return None, "choose a policy file (YAML)"
    content = await upload.read(POLICY_LIMIT + 1)
    if len(content) > POLICY_LIMIT:
        return None, f"the file is over {POLICY_LIMIT} bytes"
    try:
        return content.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, "the file is not UTF-8 text"


@router.post("/impact")
async def impact(request: Request) -> Response:
    try:
        return await _impact(request)
    finally:
        await request.close()  # the upload's spooled file, now rather than when collected


async def _impact(request: Request) -> Response:
    sent = await posted(request, lambda ctx, actor: ctx.policy.is_staff(actor.roles), "staff")
    if isinstance(sent, Response):
        return sent
    user, form = sent
    ctx = request.app.state.ctx
    as_of = form.get("as_of", "")[:32]
    day, refused = _day(as_of)
    text, unread = await _text(request)
    if refused or unread:
        problems = [f"as_of: {refused}"] if refused else []
        problems += [f"file: {unread}"] if unread else []
        return show(request, user, 422, as_of=as_of, problems=problems)
    try:
        candidate = parse_policy(text, source=SOURCE)
    except PolicyError as invalid:
        return show(request, user, 422, as_of=as_of, problems=invalid.problems)
    found = await run_in_threadpool(  # seconds over a large store: the server goes on meanwhile
        lambda: forecast(
            engine=ctx.engine,
            keyring=ctx.open_keyring(),
            current=ctx.policy,
            new=candidate,
            as_of=day,
        )
    )
    change = diff(ctx.policy, candidate)
    return show(
        request,
        user,
        as_of=day.isoformat(),
        impact=found,
        candidate_change=change,
        candidate_same=unchanged(change),
        warnings=lint.warnings(candidate),
    )
