"""`tutela audit`: verify the chain, take checkpoints of it, show events."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from tutela.access.gate import Actor
from tutela.audit import flows, service
from tutela.audit.checkpoint import read_checkpoint
from tutela.audit.rows import as_rows
from tutela.audit.verify import verify as verify_chain
from tutela.cli_support import (
    DbOption,
    JsonOption,
    console,
    err_console,
    load_context,
    parse_day,
    print_json,
    progress_bar,
)
from tutela.clock import as_of_datetime, now
from tutela.db import session_scope
from tutela.register import versions
from tutela.subjects import service as subjects

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@app.command()
def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="A checkpoint file (or a folder of them: the newest) the trail must still extend.",
        ),
    ] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Recompute the whole keyed chain; exit 1 naming the first event that does not fit."""
    seen = read_checkpoint(checkpoint) if checkpoint else None
    with (
        load_context(db) as ctx,
        session_scope(ctx.engine, write=False) as session,
        progress_bar("verifying", None, enabled=not json_output) as advance,
    ):
        report = verify_chain(
            session, keys=ctx.keyset().chain_keys(), checkpoint=seen, progress=advance
        )
    if json_output:
        print_json(report.as_dict())
    elif report.intact:
        against = f"; extends the checkpoint of {seen.taken_at} (event {seen.seq})" if seen else ""
        console.print(
            f"audit trail intact: {report.checked} events, head {report.head_hash[:16]}…{against}"
        )
    else:
        err_console.print(f"audit trail broken at event {report.first_bad}: {report.problem}")
    if not report.intact:
        raise typer.Exit(1)


@app.command()
def checkpoint(
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the checkpoint here (default: a new file in the checkpoint folder)."
        ),
    ] = None,
    email: Annotated[
        bool, typer.Option(help="Also e-mail it to the policy's DPO (through the outbox).")
    ] = True,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Verify the trail, then sign its head and keep it outside the database (a file, a log
    line, an e-mail to the DPO). Exit 1, with no checkpoint, when the trail is broken."""
    with (
        load_context(db) as ctx,
        progress_bar("verifying", None, enabled=not json_output) as advance,
    ):
        report, taken, path = flows.checkpoint(
            ctx=ctx, actor=Actor.console(), at=now(), out=out, email=email, progress=advance
        )
    if taken is None:
        err_console.print(
            f"no checkpoint: the audit trail is broken at event {report.first_bad}: "
            f"{report.problem}"
        )
        raise typer.Exit(1)
    if json_output:
        print_json({"checkpoint": orjson.loads(taken.to_json()), "file": str(path)})
        return
    console.print(
        f"checkpoint of event {taken.seq} (link {taken.hash[:16]}…) signed under master key "
        f"{taken.key_id}, written to {path}"
    )


@app.command()
def show(
    subject: Annotated[str | None, typer.Option(help="Only events about this external id.")] = None,
    principal: Annotated[str | None, typer.Option(help="Only events of this principal.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only events from this day (YYYY-MM-DD).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 1000,
    policy_text: Annotated[
        bool,
        typer.Option(
            "--policy-text", help="Also give the text of each policy version the events name."
        ),
    ] = False,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show audit events, oldest first; with --policy-text, the text of the policy version
    in force at each (as stored when it was activated)."""
    day = parse_day(since, "--since")
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        subject_id = subjects.get(session=session, external_id=subject).id if subject else None
        found = service.events(
            session,
            subject_id=subject_id,
            principal=principal,
            since=as_of_datetime(day).replace(hour=0, minute=0, second=0, microsecond=0)
            if day
            else None,
            limit=limit,
        )
        rows = as_rows(session, found)
        texts = (
            {
                v: versions.text_of(session, v)
                for v in dict.fromkeys(r["policy_version"] for r in rows)
            }
            if policy_text
            else {}
        )
    if json_output:
        print_json({"events": rows, "policies": texts} if policy_text else rows)
        return
    table = Table(
        "#",
        "at",
        "principal",
        "action",
        "outcome",
        "purpose",
        "categories",
        "reason",
        title="Audit events",
    )
    for r in rows:
        table.add_row(
            str(r["seq"]),
            f"{r['at']:%Y-%m-%d %H:%M:%S}",
            r["principal"],
            r["action"],
            r["outcome"],
            r["purpose"] or "-",
            ", ".join(r["categories"]) or "-",
            r["reason"] or "-",
        )
    console.print(table)
    for version, text in texts.items():
        console.rule(f"policy {version}")
        console.print(
            text or "(not stored: activated before this store kept versions)", markup=False
        )
