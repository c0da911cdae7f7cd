"""`tutela subjects` (import, show, list) and `tutela demo`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tutela.access.gate import Actor
from tutela.cli_support import (
    AsOfOption,
    AsOption,
    DbOption,
    JsonOption,
    acting_as,
    console,
    load_context,
    moment,
    print_json,
    progress_bar,
    progress_bars,
)
from tutela.db import session_scope
from tutela.subjects import service
from tutela.subjects.demo import demo_records
from tutela.subjects.flows import import_subjects, read_for_purpose, save_batches
from tutela.subjects.listing import list_people
from tutela.subjects.validation import validate_record

DEMO_BATCH = 2000

app = typer.Typer(
    help="People concerned (clients, prospects) and their data.", no_args_is_help=True
)


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _count_lines(path: Path) -> int | None:
    try:
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    except OSError:
        return None


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="JSON Lines (.jsonl) or CSV (.csv) file.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv (default: from the file name).")
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Report bad records and import the others.")
    ] = False,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Import subjects; re-importing an external id updates it. All or nothing by default."""
    if fmt not in (None, "jsonl", "csv"):
        raise typer.BadParameter("expected jsonl or csv", param_hint="--format")
    if not file.is_file():
        raise typer.BadParameter(f"no file at {file}", param_hint="FILE")
    with load_context(db) as ctx:
        keyring = ctx.open_keyring()
        bars = progress_bars(  # the file checked whole before anything is written, then written
            "checking", "importing", total=_count_lines(file), enabled=not json_output
        )
        with bars as (checking, advance):
            report = import_subjects(
                engine=ctx.engine,
                keyring=keyring,
                rules=ctx.rules,
                actor=Actor.console(),
                path=file,
                fmt=fmt,
                skip_invalid=skip_invalid,
                workers=ctx.settings.import_workers,
                batch=ctx.settings.import_batch,
                at=moment(as_of),
                progress=advance,
                checking=checking,
            )
    if json_output:
        print_json(report.as_dict())
        return
    console.print(
        f"read {report.read}, created {report.created}, updated {report.updated}, "
        f"skipped for the suppression list {report.suppressed}, with erased data left out "
        f"{report.not_restored}, invalid {len(report.invalid)}"
    )
    for error in report.invalid:
        console.print(f"  [yellow]skipped[/yellow] {error}")


@app.command()
def show(
    external_id: Annotated[str, typer.Argument(help="The subject's id in the company's systems.")],
    purpose: Annotated[str, typer.Option(help="The purpose of this read (a policy purpose id).")],
    category: Annotated[
        list[str] | None, typer.Option(help="Only these categories (repeatable).")
    ] = None,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Print what the purpose may see of one subject (as a principal, with --as)."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        view = read_for_purpose(
            session=session,
            keyring=ctx.keyring(session),
            policy=ctx.policy,
            actor=acting_as(session, as_),
            external_id=external_id,
            purpose=purpose,
            categories=category,
            at=moment(as_of),
        )
    if json_output:
        print_json(view.model_dump(mode="json"))
        return
    console.print(f"[bold]{view.external_id}[/bold] ({view.kind}) for purpose {view.purpose}")
    for name, values in view.data.items():
        if not values:
            console.print(f"{name}: nothing held")
        elif isinstance(values, list):  # each value under its own field, whichever it has
            fields = list(dict.fromkeys(key for item in values for key in item))
            table = Table(*fields, title=name)
            for item in values:
                table.add_row(*(str(item[f]) if f in item else "-" for f in fields))
            console.print(table)
        else:
            table = Table("field", "value", "source", "provided by the person", title=name)
            for field, value in values.items():
                origin = view.provenance[name][field]
                table.add_row(
                    field,
                    str(value),
                    origin["source"],
                    "yes" if origin["provided_by_subject"] else "no",
                )
            console.print(table)
    for name, reason in view.withheld.items():
        console.print(f"[yellow]withheld[/yellow] {name}: {reason}")


@app.command("list")
def list_(
    kind: Annotated[str | None, typer.Option(help="Only subjects of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    offset: Annotated[int, typer.Option(min=0, max=2**31 - 1)] = 0,
    as_: AsOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """List people without any personal value (audited): the kinds the principal's roles may
    read, and lifecycle dates for roles that oversee (the operator sees everything)."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        page = list_people(
            session=session,
            policy=ctx.policy,
            actor=acting_as(session, as_),
            kind=kind,
            limit=limit,
            offset=offset,
            at=moment(None),
        )
    if json_output:
        print_json(page.model_dump(mode="json"))
        return
    dated = any(r.lifecycle is not None for r in page.subjects)
    columns = ["external id", "kind", "source"]
    columns += ["first contact", "last contact", "subscription", "died on"] if dated else []
    table = Table(*columns, title=f"{len(page.subjects)} of {page.total} subjects")
    for r in page.subjects:
        row = [r.external_id, r.kind, r.source]
        if life := r.lifecycle:
            subscription = (
                f"{life.subscription_started_at} → {life.subscription_ended_at or 'now'}"
                if life.subscription_started_at
                else "-"
            )
            row += [
                str(life.first_contact_at or "-"),
                str(life.last_contact_at or "-"),
                subscription,
                str(life.date_of_death or "-"),
            ]
        table.add_row(*row)
    console.print(table)


def demo(
    subjects: Annotated[int, typer.Option("--subjects", min=1, help="How many people.")] = 1000,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same people.")
    ] = 0,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the database has subjects.")
    ] = False,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Generate a realistic demo population of clients and prospects."""
    totals = {"created": 0, "updated": 0}
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        if if_empty and service.count(session=session):
            totals["skipped"] = "the database already has subjects"
        else:
            at = moment(as_of)
            records = (  # a population as of the day it is made for: no date after it
                validate_record(raw, ctx.rules)
                for raw in demo_records(subjects, seed=seed, today=at.date())
            )
            with progress_bar("generating", subjects, enabled=not json_output) as advance:
                totals = save_batches(
                    session=session,
                    keyring=ctx.keyring(session),
                    rules=ctx.rules,
                    actor=Actor.console(),
                    batches=batched(records, DEMO_BATCH),
                    action="demo",
                    at=at,
                    progress=advance,
                )
    if json_output:
        print_json(totals)
    elif "skipped" in totals:
        console.print(f"{totals['skipped']}; no demo data added")
    else:
        console.print(f"demo population: {totals['created']} created, {totals['updated']} updated")
