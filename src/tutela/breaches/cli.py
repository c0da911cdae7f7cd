"""`tutela breaches`: the breach register (§21), its scope and its 72-hour clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tutela.breaches import service, steps, view
from tutela.cli_support import (
    AsOption,
    DbOption,
    JsonOption,
    acting_as,
    console,
    load_context,
    print_json,
)
from tutela.clock import now
from tutela.db import session_scope
from tutela.errors import Denied, InvalidInput
from tutela.subjects import service as subjects

app = typer.Typer(help="Personal data breaches (§21, GDPR Art. 33-34).", no_args_is_help=True)


def _moment(value: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            "expected a time like 2026-12-04T09:30+01:00", param_hint=option
        ) from None
    if moment.tzinfo is None:
        raise typer.BadParameter("give the time's offset (+01:00, Z)", param_hint=option)
    return moment


def handler(session, policy, as_):
    """The principal acting, if the policy lets its roles handle breaches."""
    actor = acting_as(session, as_)
    if not policy.handles_breaches(actor.roles):
        raise Denied("breaches are handled by the roles the policy names (`breaches.roles`)")
    return actor


@app.command("open")
def open_(
    aware_at: Annotated[
        str, typer.Option("--aware-at", help="When you became aware (with offset).")
    ],
    nature: Annotated[list[str], typer.Option(help="confidentiality, integrity or availability.")],
    description: Annotated[str, typer.Option(help="What happened (kept sealed).")],
    encrypted: Annotated[
        bool, typer.Option("--encrypted", help="Only encrypted data leaked; its keys did not.")
    ] = False,
    as_: AsOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record a breach; its deadline to notify the authority starts from --aware-at."""
    moment = _moment(aware_at, "--aware-at")
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        breach = service.open_breach(
            session=session,
            keyring=ctx.keyring(session),
            policy=ctx.policy,
            actor=handler(session, ctx.policy, as_),
            aware_at=moment,
            natures=nature,
            description=description,
            encrypted=encrypted,
            at=now(),
        )
        out = service.summary(session, None, ctx.policy, breach, now())
    if json_output:
        print_json(out)
        return
    console.print(
        f"breach {out['id']} opened: notify the authority by {out['deadline_local']} "
        f"({out['hours_left']} hours left)"
    )


@app.command("list")
def list_(as_: AsOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Every breach, notified or not, with its step and the time left to notify the
    authority."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        handler(session, ctx.policy, as_)
        rows = [
            service.summary(session, None, ctx.policy, b, now()) for b in service.every(session)
        ]
    if json_output:
        print_json(rows)
        return
    table = Table(
        "id",
        "status",
        "natures",
        "aware at",
        "deadline",
        "hours left",
        "people",
        "severity",
        title="Breaches",
    )
    for r in rows:
        left = "-" if r["hours_left"] is None else f"{r['hours_left']:+.1f}"
        table.add_row(
            r["id"],
            r["status"] + (" (overdue)" if r["overdue"] else ""),
            ", ".join(r["natures"]),
            f"{r['aware_at']:%Y-%m-%d %H:%M}Z",
            r["deadline_local"],
            left,
            f"{r['people']:,}",
            r["level"] or "-",
        )
    console.print(table)


@app.command()
def show(
    breach_id: Annotated[str, typer.Argument(help="The breach's id (B-…).")],
    as_: AsOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """One breach: its clock, its description, the people and records by category."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        handler(session, ctx.policy, as_)
        out = view.full(
            session, ctx.keyring(session), ctx.policy, service.get(session, breach_id), now()
        )
    if json_output:
        print_json(out)
        return
    for key, value in out.items():
        console.print(f"{key}: {value}", soft_wrap=True, markup=False)


@app.command("scope")
def scope(
    breach_id: Annotated[str, typer.Argument(help="The breach's id (B-…).")],
    principal: Annotated[str | None, typer.Option(help="Whose reads leaked (a principal).")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Window start (with offset).")] = None,
    until: Annotated[str | None, typer.Option(help="Window end (with offset).")] = None,
    category: Annotated[str | None, typer.Option(help="Everyone holding this category.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only people of this kind.")] = None,
    external_ids: Annotated[
        Path | None, typer.Option("--external-ids", help="A file of external ids, one a line.")
    ] = None,
    encrypted: Annotated[
        bool,
        typer.Option("--encrypted", help="What leaked of them was ciphertext; the keys did not."),
    ] = False,
    as_: AsOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record the people the breach concerns: those a principal read in a window (from the
    trail), everyone holding a category, or a list; then the counts by category."""
    window = None
    if principal is not None:
        if from_ is None or until is None:
            raise InvalidInput("a principal's scope needs --from and --until", location="from")
        window = (_moment(from_, "--from"), _moment(until, "--until"))
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        actor = handler(session, ctx.policy, as_)
        ids = None
        if external_ids is not None:
            wanted = [
                line.strip() for line in external_ids.read_text().splitlines() if line.strip()
            ]
            ids = [subjects.get(session=session, external_id=e).id for e in wanted]
        breach = service.get(session, breach_id)
        service.scope(
            session=session,
            policy=ctx.policy,
            actor=actor,
            breach=breach,
            at=now(),
            principal=principal,
            window=window,
            category=category,
            kind=kind,
            subject_ids=ids,
            encrypted=encrypted,
        )
        out = service.summary(session, None, ctx.policy, breach, now())
    if json_output:
        print_json(out)
        return
    console.print(f"breach {out['id']}: {out['people']:,} people, {out['records']:,} records")
    for name, counts in out["by_category"].items():
        console.print(f"  {name}: {counts['people']:,} people")


@app.command()
def close(
    breach_id: Annotated[str, typer.Argument(help="The breach's id (B-…).")],
    as_: AsOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Close a breach; it stays in the register (Art. 33(5))."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        actor = handler(session, ctx.policy, as_)
        breach = steps.close(
            session=session,
            policy=ctx.policy,
            actor=actor,
            breach=service.get(session, breach_id),
            at=now(),
        )
        out = {"id": breach.id, "status": breach.status, "closed_at": breach.closed_at}
    if json_output:
        print_json(out)
        return
    console.print(f"breach {out['id']} closed")
