"""`tutela requests`: open, list, show, extend."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tutela.access.gate import Actor
from tutela.cli_support import (
    AsOfOption,
    DbOption,
    JsonOption,
    console,
    load_context,
    parse_day,
    print_json,
)
from tutela.clock import now, today
from tutela.db import session_scope
from tutela.errors import Denied
from tutela.requests import flows, service
from tutela.requests.export import write_private
from tutela.requests.models import RightsRequest
from tutela.requests.schemas import RequestOut

app = typer.Typer(help="Rights requests (§10-16).", no_args_is_help=True)


def _out(request: RightsRequest) -> dict:
    return RequestOut.model_validate(request, from_attributes=True).model_dump(mode="json")


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
    directive: Annotated[
        str | None,
        typer.Option(help="For a post-mortem request: keep, erase, communicate or revoke."),
    ] = None,
    designate: Annotated[
        str | None, typer.Option(help="With communicate: the e-mail of who receives the data.")
    ] = None,
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
    if directive is not None:
        changes["directive"] = directive
    if designate is not None:
        changes["designate"] = designate
    day = parse_day(received, "--received") or today()
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        request = flows.open_request(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=Actor.console(),
            type_=type_,
            external_id=external_id,
            email=email,
            channel=channel,
            received=day,
            at=now(),
            changes=changes or None,
        )
        out = _out(request)
    if json_output:
        print_json(out)
    else:
        console.print(f"request {out['id']} ({out['type']}), due {out['due_on']}")
        if out["flag"]:
            console.print(f"flagged for the DPO: {out['flag']}")


@app.command("list")
def list_(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past due.")] = False,
    due_within: Annotated[int | None, typer.Option(help="Only those due within DAYS.")] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Requests not yet closed, soonest due first."""
    day: date = parse_day(as_of) or today()
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        rows = [
            _out(r)
            for r in service.list_requests(
                session=session, on=day, overdue=overdue, due_within=due_within
            )
        ]
    if json_output:
        print_json(rows)
        return
    table = Table(
        "id", "type", "channel", "received", "due", "status", "flag", title="Rights requests"
    )
    for r in rows:
        table.add_row(
            r["id"],
            r["type"],
            r["channel"],
            r["received_on"],
            r["due_on"],
            r["status"],
            "repeated: see show" if r["flag"] else "",
        )
    console.print(table)


@app.command()
def show(request_id: str, db: DbOption = None, json_output: JsonOption = False) -> None:
    """One request."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        out = _out(service.get(session=session, request_id=request_id))
    if json_output:
        print_json(out)
    else:
        for key, value in out.items():
            console.print(f"{key}: {value}")


@app.command()
def death(
    external_id: str,
    on: Annotated[str, typer.Option(help="Day of death (YYYY-MM-DD).")],
    proof: Annotated[str, typer.Option(help="Reference of the proof checked (certificate).")],
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record a death on a checked proof and carry out the person's directive (§16)."""
    day = parse_day(on, "--on")
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        outcome = flows.record_death(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=Actor.console(),
            external_id=external_id,
            died_on=day,
            proof=proof,
            at=now(),
        )
    if json_output:
        print_json(outcome)
    else:
        console.print(f"death recorded; directive: {outcome['directive'] or 'none'}")
        for line in outcome.get("done", []):
            console.print(f"  {line}")


@app.command()
def extend(
    request_id: str,
    months: Annotated[int, typer.Option(min=1, max=2, help="1 or 2 further months.")],
    reason: Annotated[str, typer.Option(help="Why: told to the person.")],
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Extend the deadline once, before it passes (Art. 12(3))."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        extended, emailed = flows.extend(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=Actor.console(),
            request_id=request_id,
            months=months,
            reason=reason,
            at=now(),
        )
        out = {**_out(extended), "person_told": "email" if emailed else "write to them"}
    if json_output:
        print_json(out)
    else:
        told = "told by e-mail" if emailed else "no e-mail on file: write to the person"
        console.print(f"request {request_id} now due {out['due_on']}; {told}")


@app.command()
def verify(
    request_id: str,
    code: Annotated[str | None, typer.Option(help="The code the person received.")] = None,
    id_checked_by: Annotated[
        str | None, typer.Option(help="Who checked the ID document (letters).")
    ] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Verify the requester's identity: the e-mailed code, or a staff attestation."""
    if (code is None) == (id_checked_by is None):
        raise typer.BadParameter("give exactly one of --code and --id-checked-by")
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        refused = flows.verify(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=Actor.console(),
            request_id=request_id,
            code=code,
            id_checked_by=id_checked_by,
            at=now(),
        )
    if refused:  # the attempt is committed; now say no
        raise Denied(refused)
    if json_output:
        print_json({"id": request_id, "status": "verified"})
    else:
        console.print(f"request {request_id}: identity verified")


@app.command()
def process(request_id: str, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Decide a verified request and carry it out: what was done, and why."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        answer = flows.process(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=Actor.console(),
            request_id=request_id,
            at=now(),
        )
    summary = answer.as_dict()
    if summary["copy"] is not None:  # personal data: for the person, through `export`
        summary["copy"] = "ready: tutela requests export"
    if json_output:
        print_json(summary)
        return
    console.print(f"request {request_id} ({answer.type}): {answer.outcome}")
    for line in answer.done + answer.reasons:
        console.print(f"  {line}")


@app.command()
def export(
    request_id: str,
    fmt: Annotated[str, typer.Option("--format", help="json, csv or html.")] = "html",
    out: Annotated[Path, typer.Option(help="File to write (must not exist; mode 0600).")] = ...,
    db: DbOption = None,
) -> None:
    """Write the answer with its copy of the data, for the person (access, portability)."""
    if out.exists():
        raise typer.BadParameter(f"{out} exists; refusing to overwrite", param_hint="--out")
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        text = flows.export_copy(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=Actor.console(),
            request_id=request_id,
            fmt=fmt,
            at=now(),
        )
    write_private(out, text)
    console.print(f"wrote {out} (readable by you only): hand it to the person, then delete it")
