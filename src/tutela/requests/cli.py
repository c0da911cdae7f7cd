"""`tutela requests`: the whole life of a rights request, from the letter to the receipt."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tutela.cli_support import (
    AsOfOption,
    AsOption,
    DbOption,
    JsonOption,
    acting_as,
    console,
    load_context,
    moment,
    parse_day,
    print_json,
)
from tutela.db import session_scope
from tutela.errors import Denied
from tutela.requests import death as deaths
from tutela.requests import export as exports
from tutela.requests import flows, intake, permissions, service
from tutela.requests.decision import Outcome
from tutela.requests.models import RequestStatus
from tutela.requests.notices import contacts
from tutela.requests.schemas import RequestOut

app = typer.Typer(help="Rights requests (§10-16).", no_args_is_help=True)

RequestId = Annotated[str, typer.Argument(help="The request's id.")]
OutOption = Annotated[Path, typer.Option(help="File to write (must not exist; mode 0600).")]


def _out(request) -> dict:
    return RequestOut.of(request).model_dump(mode="json")


def _print_answer(request_id: str, answer: dict, reply: str | None) -> None:
    console.print(f"request {request_id} ({answer['type']}): {answer['outcome']}")
    for item in answer.get("items", []):
        if item["action"] != "give":
            console.print(
                f"  {item['category']}: {item['action']}: {item['reason']}", soft_wrap=True
            )
    for line in [*answer.get("done", []), *answer.get("reasons", [])]:
        console.print(f"  {line}", soft_wrap=True)
    if reply == "letter":
        console.print(f"  write to the person: tutela requests letter {request_id}")
    elif reply == "email":
        console.print("  the answer is e-mailed to the person (tutela outbox send)")


@app.command("open")
def open_(
    type_: Annotated[str, typer.Option("--type", help=", ".join(service.TYPES))],
    external_id: Annotated[
        str | None, typer.Option(help="The person's id in your systems.")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Or the person's e-mail address.")] = None,
    received: Annotated[str | None, typer.Option(help="Day received (default: today).")] = None,
    channel: Annotated[str, typer.Option(help="api, post or email.")] = "email",
    change: Annotated[
        list[str] | None,
        typer.Option(help="For a rectification: CATEGORY.FIELD=VALUE, as often as needed."),
    ] = None,
    scope: Annotated[
        list[str] | None, typer.Option(help="For an objection: a scope (default: every one).")
    ] = None,
    directive: Annotated[
        str | None,
        typer.Option(help="For a post-mortem request: keep, erase, communicate or revoke."),
    ] = None,
    designate: Annotated[
        str | None, typer.Option(help="With communicate: the e-mail of who receives the data.")
    ] = None,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Open a request (letters and e-mails received); prints its id and due date."""
    if (external_id is None) == (email is None):
        raise typer.BadParameter("give exactly one of --external-id and --email")
    changes = {}
    for item in change or ():
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise typer.BadParameter("expected CATEGORY.FIELD=VALUE", param_hint="--change")
        changes[key.strip()] = value
    particulars = {
        "changes": changes,
        "scopes": scope or [],
        "directive": directive,
        "designate": designate,
    }
    at = moment(as_of)
    day = parse_day(received, "--received") or at.date()
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        request = intake.open_request(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=acting_as(session, as_),
            type_=type_,
            external_id=external_id,
            email=email,
            channel=channel,
            received=day,
            at=at,
            particulars={k: v for k, v in particulars.items() if v},
        )
        out = _out(request)
    if json_output:
        print_json(out)
    else:
        console.print(f"request {out['id']} ({out['type']}), due {out['due_on']}")
        if out["flag"]:
            console.print(f"flagged for the DPO: {out['flag']}", soft_wrap=True)


@app.command("list")
def list_(
    status: Annotated[
        RequestStatus | None, typer.Option(help="Only those of this status (default: in progress).")
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past due.")] = False,
    due_within: Annotated[int | None, typer.Option(help="Only those due within DAYS.")] = None,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Requests in progress, or of one status, soonest due first."""
    day = moment(as_of).date()
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        actor = acting_as(session, as_)
        rows = [
            _out(r)
            for r in service.list_requests(
                session=session,
                on=day,
                status=status,
                overdue=overdue,
                due_within=due_within,
                opened_by=permissions.opened_by_filter(ctx.policy, actor),
            )
        ]
    if json_output:
        print_json(rows)
        return
    table = Table(
        "id", "type", "person", "received", "due", "status", "flag", title="Rights requests"
    )
    for r in rows:
        table.add_row(
            r["id"],
            r["type"],
            r["external_id"] or "-",
            r["received_on"],
            r["due_on"],
            r["status"],
            "repeated: see show" if r["flag"] else "",
        )
    console.print(table)


@app.command()
def show(
    request_id: RequestId,
    as_: AsOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """One request, with its decision once it ended."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        found = service.get(session=session, request_id=request_id)
        permissions.require_own(ctx.policy, acting_as(session, as_), found)
        out = _out(found)
    if json_output:
        print_json(out)
        return
    for key, value in out.items():
        if key != "answer":
            console.print(f"{key}: {value}", soft_wrap=True)
    if out["answer"]:
        _print_answer(request_id, out["answer"], None)


@app.command()
def verify(
    request_id: RequestId,
    code: Annotated[str | None, typer.Option(help="The code the person received.")] = None,
    id_checked_by: Annotated[
        str | None, typer.Option(help="Who checked the ID document (letters).")
    ] = None,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Verify the requester's identity: the e-mailed code, or a staff attestation."""
    if (code is None) == (id_checked_by is None):
        raise typer.BadParameter("give exactly one of --code and --id-checked-by")
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        refused = intake.verify(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=acting_as(session, as_),
            request_id=request_id,
            code=code,
            id_checked_by=id_checked_by,
            at=moment(as_of),
        )
    if refused:  # the attempt is committed; now say no
        raise Denied(refused)
    if json_output:
        print_json({"id": request_id, "status": "verified"})
    else:
        console.print(f"request {request_id}: identity verified")


@app.command()
def extend(
    request_id: RequestId,
    months: Annotated[int, typer.Option(min=1, max=2, help="1 or 2 further months.")],
    reason: Annotated[str, typer.Option(help="Why: told to the person.")],
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Extend the deadline once, before it passes (Art. 12(3))."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        extended, emailed = intake.extend(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=acting_as(session, as_),
            request_id=request_id,
            months=months,
            reason=reason,
            at=moment(as_of),
        )
        out = {**_out(extended), "person_told": "email" if emailed else "write to them"}
    if json_output:
        print_json(out)
    else:
        told = "told by e-mail" if emailed else "no e-mail on file: write to the person"
        console.print(f"request {request_id} now due {out['due_on']}; {told}")


@app.command()
def process(
    request_id: RequestId,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Decide a verified request and carry it out: each category's action, why, and until
    when anything kept is kept; the person is answered through their channel."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        answered = flows.process(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=acting_as(session, as_),
            request_id=request_id,
            at=moment(as_of),
        )
    _answered(request_id, answered, ctx.policy, json_output)


def _answered(request_id: str, answered: flows.Answered, policy, json_output: bool) -> None:
    summary = {**answered.answer, "reply": answered.reply, "contacts": contacts(policy)}
    if answered.decision.type in exports.EXPORTABLE and answered.decision.outcome == Outcome.DONE:
        summary["copy"] = f"tutela requests export {request_id}"
    if json_output:
        print_json(summary)
    else:
        _print_answer(request_id, summary, answered.reply)


@app.command()
def refuse(
    request_id: RequestId,
    reason: Annotated[str, typer.Option(help="Why it is manifestly unfounded or excessive.")],
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Refuse a request as manifestly unfounded or excessive (Art. 12(5)), with reasons."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        answered = flows.refuse(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=acting_as(session, as_),
            request_id=request_id,
            reason=reason,
            at=moment(as_of),
        )
    _answered(request_id, answered, ctx.policy, json_output)


@app.command()
def cancel(
    request_id: RequestId,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Withdraw a request not yet answered, at the person's wish."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        found = service.get(session=session, request_id=request_id)
        intake.cancel(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=acting_as(session, as_),
            request=found,
            at=moment(as_of),
        )
        out = _out(found)
    if json_output:
        print_json(out)
    else:
        console.print(f"request {request_id} cancelled")


@app.command("close-unverified")
def close_unverified(
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Close the requests whose requester did not prove their identity in time
    (`rights_requests.unverified_after_days`); the worker does it daily."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        closed = intake.close_unverified(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=acting_as(session, as_),
            at=moment(as_of),
        )
    if json_output:
        print_json({"closed": closed})
    else:
        console.print(f"{len(closed)} request(s) closed as unverified")
        for request_id in closed:
            console.print(f"  {request_id}")


@app.command("lift-restriction")
def lift_restriction(
    external_id: Annotated[str, typer.Argument(help="The person's id in your systems.")],
    reason: Annotated[str, typer.Option(help="Why (no personal data): told to the person.")],
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Lift a person's restriction (the DPO); the person and the recipients are told."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        lifted = flows.lift_restriction(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=acting_as(session, as_),
            external_id=external_id,
            reason=reason,
            at=moment(as_of),
        )
    if json_output:
        print_json(lifted)
    else:
        told = "by e-mail" if lifted["person_told"] else "no e-mail on file: write to them"
        console.print(f"restriction of {external_id} lifted; the person is told {told}")


@app.command()
def death(
    external_id: str,
    on: Annotated[str, typer.Option(help="Day of death (YYYY-MM-DD).")],
    proof: Annotated[str, typer.Option(help="Reference of the proof checked (certificate).")],
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record a death on a checked proof and carry out the person's directive (§16)."""
    day = parse_day(on, "--on")
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        outcome = deaths.record_death(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=acting_as(session, as_),
            external_id=external_id,
            died_on=day,
            proof=proof,
            at=moment(as_of),
        )
    if json_output:
        print_json(outcome)
    else:
        console.print(f"death recorded; directive: {outcome['directive'] or 'none'}")
        for line in outcome.get("done", []):
            console.print(f"  {line}", soft_wrap=True)


def _write(out: Path, content: str | bytes) -> None:
    exports.write_private(out, content)
    console.print(f"wrote {out} (readable by you only): hand it to the person, then delete it")


@app.command()
def export(
    request_id: RequestId,
    fmt: Annotated[str, typer.Option("--format", help="json, csv, html or pdf.")] = "html",
    out: OutOption = ...,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
) -> None:
    """Write the answer with its copy of the data, for the person (access, portability)."""
    if out.exists():
        raise typer.BadParameter(f"{out} exists; refusing to overwrite", param_hint="--out")
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        content = flows.export_copy(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=acting_as(session, as_),
            request_id=request_id,
            fmt=fmt,
            at=moment(as_of),
        )
    _write(out, content)


@app.command()
def letter(
    request_id: RequestId,
    fmt: Annotated[str, typer.Option("--format", help="html or pdf.")] = "pdf",
    out: OutOption = ...,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
) -> None:
    """Write the answer as a letter to print and post: outcome, reasons, what was done and
    kept, the erasure receipt, the DPO and the complaint route (and the copy, for access)."""
    if out.exists():
        raise typer.BadParameter(f"{out} exists; refusing to overwrite", param_hint="--out")
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        content = flows.letter(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=acting_as(session, as_),
            request_id=request_id,
            fmt=fmt,
            at=moment(as_of),
        )
    _write(out, content)


@app.command()
def receipt(
    request_id: RequestId,
    as_: AsOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """The erasure receipt of a request: what was erased and kept, until when, the data key
    destroyed, the trail events that record it and the policy version."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        shown = flows.receipt(
            session=session, policy=ctx.policy, actor=acting_as(session, as_), request_id=request_id
        )
    if json_output:
        print_json(shown)
        return
    console.print(f"receipt {shown['receipt']} (digest {shown['digest']})")
    console.print(f"request {shown['request']}, person {shown['external_id']}, at {shown['at']}")
    for e in shown["erased"]:
        console.print(f"  erased: {e['category']} ({e['records']})")
    for k in shown["kept"]:
        console.print(
            f"  kept: {k['category']} for {', '.join(k['grounds'])} until {k['until'] or 'not known yet'}"
        )
    for key in shown["data_keys_destroyed"]:
        console.print(f"  data key destroyed: {key}")
    for e in shown["events"]:
        console.print(f"  trail event {e['seq']}: {e['hash'] or 'missing from the trail'}")
    console.print(f"  policy version {shown['policy_version']}")
