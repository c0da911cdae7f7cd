"""`tutela retention` (plan, forecast, run), `tutela holds` and `tutela stats`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from tutela.access.gate import Actor
from tutela.cli_support import (
    AsOfOption,
    DbOption,
    JsonOption,
    console,
    load_context,
    moment,
    parse_day,
    print_json,
    progress_bar,
)
from tutela.clock import now, today
from tutela.db import session_scope
from tutela.retention import flows, holds, service
from tutela.retention.forecast import ACTIONS
from tutela.retention.forecast import forecast as forecast_of
from tutela.retention.models import AnonymisedCount
from tutela.subjects import receipts as erasure_receipts
from tutela.subjects import service as subjects

app = typer.Typer(help="Retention (§9): plan, forecast and run.", no_args_is_help=True)
holds_app = typer.Typer(help="Legal holds that suspend deletion.", no_args_is_help=True)


def _as_of(value: str | None) -> date:
    return parse_day(value) or today()


@app.command()
def plan(as_of: AsOfOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Every action due at a date: subject, category, action, rule, anchor and due date."""
    day = _as_of(as_of)
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        due = service.plan(session=session, policy=ctx.policy, as_of=day)
    if json_output:
        print_json([d.as_dict() for d in due])
        return
    table = Table(
        "external id",
        "category",
        "action",
        "rule",
        "anchor",
        "due",
        "skipped",
        title=f"{len(due)} actions due at {day}",
    )
    for d in due:
        row = d.as_dict()
        table.add_row(
            d.external_id,
            d.category,
            d.action,
            d.rule,
            row["anchor"],
            row["due"],
            row["skipped"] or "",
        )
    console.print(table)


@app.command()
def forecast(
    from_: Annotated[str | None, typer.Option("--from", help="First day (default: today).")] = None,
    months: Annotated[int, typer.Option(min=1, max=120, help="How many months.")] = 12,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """How many actions fall due in each month ahead (overdue ones count in the first)."""
    start = parse_day(from_, "--from") or today()
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        ahead = forecast_of(session=session, policy=ctx.policy, start=start, months=months)
    rows = ahead.by_action()
    if json_output:
        print_json(rows)
        return
    table = Table("month", *ACTIONS, title="Retention forecast")
    for r in rows:
        table.add_row(r["month"], *(str(r[a]) for a in ACTIONS))
    console.print(table)


@app.command()
def run(
    as_of: AsOfOption = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Report exactly what the run would do; change nothing."),
    ] = False,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Archive, delete and anonymise what is due; safe to repeat and to interrupt."""
    day = _as_of(as_of)
    with load_context(db) as ctx:
        total = flows.count_subjects(ctx.engine)
        with progress_bar("retention", total, enabled=not json_output) as advance:
            report = flows.run(
                engine=ctx.engine,
                policy=ctx.policy,
                keyring=ctx.open_keyring(),
                actor=Actor.console(),
                as_of=day,
                at=now(),
                dry_run=dry_run,
                listing=json_output,
                batch_size=ctx.settings.retention_batch,
                progress=advance,
            )
    if json_output:
        print_json(report.as_dict())
        return
    verb = "would be" if dry_run else "were"
    for (rule, action), n in sorted(report.actions.items()):
        done = {"archive": "archived", "delete": "deleted", "anonymise": "anonymised"}[action]
        console.print(f"{rule}: {n} subject(s) {verb} {done}")
    console.print(
        f"{report.skipped_for_holds} skipped for legal holds; "
        f"{report.subjects_removed} subjects left with nothing {verb} removed; "
        f"{report.receipts} erasure receipt(s)"
    )


def stats(db: DbOption = None, json_output: JsonOption = False) -> None:
    """What anonymisation left: counts by kind, source, country and month of first contact."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        rows = session.execute(
            select(
                AnonymisedCount.kind,
                AnonymisedCount.source,
                AnonymisedCount.country,
                AnonymisedCount.month,
                func.sum(AnonymisedCount.count),
            )
            .group_by(
                AnonymisedCount.kind,
                AnonymisedCount.source,
                AnonymisedCount.country,
                AnonymisedCount.month,
            )
            .order_by(AnonymisedCount.month, AnonymisedCount.kind, AnonymisedCount.source)
        ).all()
    data = [
        {"kind": k, "source": s, "country": c, "month": m, "count": int(n)}
        for k, s, c, m, n in rows
    ]
    if json_output:
        print_json(data)
        return
    table = Table("month", "kind", "source", "country", "people", title="Anonymised statistics")
    for r in data:
        table.add_row(r["month"], r["kind"], r["source"], r["country"], str(r["count"]))
    console.print(table)


@holds_app.command("add")
def add_hold(
    external_id: str,
    purpose: Annotated[str, typer.Option(help="debt_disputes or legal_archiving.")],
    reference: Annotated[str, typer.Option(help="The case reference (no personal data).")],
    category: Annotated[list[str] | None, typer.Option(help="Only these (default: all).")] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Suspend deletion and anonymisation of a subject's data (a debt, a dispute)."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        subject = subjects.get(session=session, external_id=external_id)
        hold = holds.place_hold(
            session=session,
            policy=ctx.policy,
            actor=Actor.console(),
            subject_id=subject.id,
            categories=category or [],
            purpose=purpose,
            reference=reference,
            at=moment(as_of),
        )
        result = {"id": hold.id, "external_id": external_id, "categories": hold.categories}
    if json_output:
        print_json(result)
    else:
        console.print(f"legal hold {result['id']} placed on {external_id}")


@holds_app.command("list")
def list_holds(db: DbOption = None, json_output: JsonOption = False) -> None:
    """Active legal holds."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        rows = holds.listed(session=session)
    if json_output:
        print_json(rows)
        return
    table = Table(
        "id", "external id", "purpose", "reference", "categories", "placed", title="Legal holds"
    )
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["external_id"] or "-",
            r["purpose"],
            r["reference"],
            ", ".join(r["categories"]) or "all",
            f"{r['placed_at']:%Y-%m-%d}",
        )
    console.print(table)


@holds_app.command("release")
def release_hold(
    hold_id: int, as_of: AsOfOption = None, db: DbOption = None, json_output: JsonOption = False
) -> None:
    """Lift a legal hold: the retention rules apply again at the next run."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        _, erased = holds.release_hold(
            session=session,
            policy=ctx.policy,
            keyring=ctx.keyring(session),
            actor=Actor.console(),
            hold_id=hold_id,
            at=moment(as_of),
        )
    if json_output:
        print_json({"id": hold_id, "released": True, "erased": erased})
        return
    console.print(f"legal hold {hold_id} released")
    if erased:
        console.print("erased now, as the erasure request it suspended asked: " + ", ".join(erased))


@app.command()
def receipts(
    since: Annotated[str | None, typer.Option(help="Only from this day (YYYY-MM-DD).")] = None,
    rule: Annotated[str | None, typer.Option(help="Only those of this rule.")] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """The erasure receipts of retention runs: what each batch erased, for how many people,
    the data keys destroyed, the trail events and the policy version; no personal value."""
    start = _day_start(since)
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        rows = [
            erasure_receipts.shown(session, r)
            for r in erasure_receipts.by_retention(session=session, since=start, rule=rule)
        ]
    if json_output:
        print_json(rows)
        return
    table = Table("receipt", "at", "rule", "people", "erased", "keys destroyed", title="Receipts")
    for r in rows:
        table.add_row(
            r["receipt"],
            r["at"][:19],
            r["rule"],
            str(r["subjects"]),
            ", ".join(e["category"] for e in r["erased"]),
            str(len(r["data_keys_destroyed"])),
        )
    console.print(table)


def _day_start(value: str | None) -> datetime | None:
    day = parse_day(value, "--since")
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None
