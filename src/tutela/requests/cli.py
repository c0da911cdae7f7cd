"""`tutela requests`: the whole life of a rights request, from the letter to the receipt; the
commands that decide and answer are in `answers_cli`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tutela.cli_support import (
    AsOfOption,
    AsOption,
    DbOption,
    JsonOption,
    acting,
    acting_as,
    console,
    load_context,
    moment,
    parse_day,
    print_json,
)
from tutela.db import session_scope
from tutela.errors import Denied
from tutela.requests import answers_cli as answers
from tutela.requests import intake, permissions, service
from tutela.requests.models import RequestStatus
from tutela.requests.schemas import RequestOut

app = typer.Typer(help="Rights requests (§10-16).", no_args_is_help=True)

RequestId = Annotated[str, typer.Argument(help="The request's id.")]


def _out(request) -> dict:
    return RequestOut.of(request).model_dump(mode="json")


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
    with acting(db, as_) as (_, by):
        request = intake.open_request(
            **by,
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
    type_: Annotated[str | None, typer.Option("--type", help="Only those of this type.")] = None,
    external_id: Annotated[str | None, typer.Option(help="Only those about this person.")] = None,
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
                type_=type_,
                external_id=external_id,
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
        answers.print_answer(request_id, out["answer"], None)


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
    with acting(db, as_) as (_, by):
        refused = intake.verify(
            **by,
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
    with acting(db, as_) as (_, by):
        extended, emailed = intake.extend(
            **by,
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
def cancel(
    request_id: RequestId,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Withdraw a request not yet answered, at the person's wish."""
    with acting(db, as_) as (_, by):
        found = intake.cancel(
            **by,
            request_id=request_id,
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
    with acting(db, as_) as (_, by):
        closed = intake.close_unverified(
            **by,
            at=moment(as_of),
        )
    if json_output:
        print_json({"closed": closed})
    else:
        console.print(f"{len(closed)} request(s) closed as unverified")
        for request_id in closed:
            console.print(f"  {request_id}")


for command in (
    answers.process,
    answers.refuse,
    answers.lift_restriction,
    answers.death,
    answers.export,
    answers.letter,
    answers.receipt,
):
    app.command(command.__name__.replace("_", "-"))(command)
