"""`tutela consents`: the consent ledger and objections of one person."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated

import typer
from rich.table import Table

from tutela.cli_support import (
    AsOfOption,
    DbOption,
    JsonOption,
    acting_as,
    console,
    load_context,
    moment,
    parse_day,
    print_json,
)
from tutela.consent import flows, service
from tutela.db import session_scope
from tutela.subjects import service as subjects

app = typer.Typer(help="Consents and objections (§12, §15).", no_args_is_help=True)

ExternalId = Annotated[str, typer.Argument(help="The person's id in the company's systems.")]
Purpose = Annotated[str, typer.Option(help="A purpose of the policy that rests on consent.")]


@app.command()
def give(
    external_id: ExternalId,
    purpose: Purpose,
    channel: Annotated[str | None, typer.Option(help="Where it was given (web_form...).")] = None,
    expires: Annotated[str | None, typer.Option(help="Day it lapses (YYYY-MM-DD).")] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record a consent given now."""
    day = parse_day(expires, "--expires")
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        flows.give(
            session=session,
            policy=ctx.policy,
            actor=acting_as(session, None),
            subject=subjects.get(session=session, external_id=external_id),
            purpose=purpose,
            channel=channel,
            expires_at=datetime.combine(day, time.min, tzinfo=UTC) if day else None,
            at=moment(as_of),
        )
    _done(json_output, {"external_id": external_id, "purpose": purpose, "consent": "given"})


@app.command()
def withdraw(
    external_id: ExternalId,
    purpose: Purpose,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Withdraw a consent now: the purpose is refused from this moment."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        flows.withdraw(
            session=session,
            policy=ctx.policy,
            actor=acting_as(session, None),
            subject=subjects.get(session=session, external_id=external_id),
            purpose=purpose,
            at=moment(as_of),
        )
    _done(json_output, {"external_id": external_id, "purpose": purpose, "consent": "withdrawn"})


@app.command("object")
def object_(
    external_id: ExternalId,
    scope: Annotated[str, typer.Option(help="An objection scope of the policy (prospecting...).")],
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record an objection: every purpose of that scope is refused for the person."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        flows.object_to(
            session=session,
            policy=ctx.policy,
            actor=acting_as(session, None),
            subject=subjects.get(session=session, external_id=external_id),
            scope=scope,
            at=moment(as_of),
        )
    _done(json_output, {"external_id": external_id, "objection": scope})


@app.command()
def show(external_id: ExternalId, db: DbOption = None, json_output: JsonOption = False) -> None:
    """The person's consents and objections, with their dates."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        subject = subjects.get(session=session, external_id=external_id)
        ledger = service.history(session=session, subject_id=subject.id)
    if json_output:
        print_json(ledger)
        return
    table = Table("purpose", "given", "expires", "withdrawn", title="Consents")
    for c in ledger["consents"]:
        table.add_row(
            c["purpose"],
            str(c["given_at"]),
            str(c["expires_at"] or "-"),
            str(c["withdrawn_at"] or "-"),
        )
    console.print(table)
    for o in ledger["objections"]:
        console.print(
            f"objection to {o['scope']} since {o['made_at']}"
            + (f", withdrawn {o['withdrawn_at']}" if o["withdrawn_at"] else "")
        )


def _done(json_output: bool, result: dict) -> None:
    if json_output:
        print_json(result)
    else:
        console.print(", ".join(f"{k}: {v}" for k, v in result.items()))
