"""`tutela register`: the register of processing activities, derived from the active policy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tutela.cli_support import DbOption, JsonOption, console, emit, load_context, print_json
from tutela.db import session_scope
from tutela.errors import NotFound
from tutela.register import render, subprocessors
from tutela.register.activities import register
from tutela.register.dates import activity_dates
from tutela.register.privacy_notice import notice as derive_notice

app = typer.Typer(
    help="The register of processing activities (GDPR Art. 30).", no_args_is_help=True
)


@app.command()
def export(
    fmt: Annotated[
        str, typer.Option("--format", help="csv, html, pdf, json or jsonld (W3C DPV terms).")
    ] = "html",
    lang: Annotated[str, typer.Option("--lang", help="en or fr.")] = "en",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (PDF needs one).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Export the register: one activity per purpose of the policy in force, every field
    read off it."""
    render.check(fmt, lang)
    if fmt == "pdf" and out is None:
        raise typer.BadParameter("a PDF is written to a file", param_hint="--out")
    with load_context(db) as ctx:
        policy, dated = ctx.policy, activity_dates(ctx.engine)
    emit(render.render(register(policy, lang, dated), fmt), out)


def notice(
    kind: Annotated[str, typer.Option("--kind", help="The kind of person: client or prospect.")],
    lang: Annotated[str, typer.Option("--lang", help="en or fr.")] = "en",
    fmt: Annotated[str, typer.Option("--format", help="html, md or pdf.")] = "html",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (PDF needs one).")
    ] = None,
    db: DbOption = None,
) -> None:
    """The privacy notice (GDPR Art. 13-14) for one kind of person, from the active policy:
    controller, DPO, purposes and bases, recipients, transfers, retention, rights, consent,
    complaint, forms; for data not collected from the person, its sources."""
    render.check(fmt, lang, render.NOTICE_FORMATS)
    if fmt == "pdf" and out is None:
        raise typer.BadParameter("a PDF is written to a file", param_hint="--out")
    with load_context(db) as ctx:
        policy = ctx.policy
    emit(render.render_notice(derive_notice(policy, lang, kind), fmt), out)


subprocessors_app = typer.Typer(
    help="The subprocessors of the policy in force (§19), and their history.",
    no_args_is_help=True,
)
LangOption = Annotated[str, typer.Option("--lang", help="en or fr.")]


@subprocessors_app.command("list")
def list_subprocessors(
    lang: LangOption = "en", db: DbOption = None, json_output: JsonOption = False
) -> None:
    """Each subprocessor: its service, where it processes, for which purposes, its Art. 28
    contract and last audit."""
    render.check("json", lang)
    with load_context(db) as ctx:
        found = subprocessors.describe(ctx.policy, lang)
    if json_output:
        print_json(found)
        return
    table = Table(
        "id", "name", "service", "location", "contract", "last audit", title="Subprocessors"
    )
    for s in found:
        contract = s["contract_reference"] or "not recorded"
        if s["contract_date"]:
            contract += f" ({s['contract_date']})"
        table.add_row(
            s["id"], s["name"], s["service"], s["location"], contract, str(s["last_audit"] or "-")
        )
    console.print(table)


@subprocessors_app.command("show")
def show_subprocessor(
    subprocessor: Annotated[str, typer.Argument(help="The subprocessor's id.")],
    lang: LangOption = "en",
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Everything the policy in force says of one subprocessor."""
    render.check("json", lang)
    with load_context(db) as ctx:
        found = {s["id"]: s for s in subprocessors.describe(ctx.policy, lang)}
    if subprocessor not in found:
        raise NotFound(f"no subprocessor '{subprocessor}' in the policy in force")
    if json_output:
        print_json(found[subprocessor])
        return
    for key, value in found[subprocessor].items():
        shown = ", ".join(value) if isinstance(value, list) else value
        console.print(
            f"{key}: {shown if shown not in (None, '') else '-'}", soft_wrap=True, markup=False
        )


@subprocessors_app.command("history")
def subprocessor_history(
    subprocessor: Annotated[
        str | None, typer.Argument(help="Only this subprocessor's changes.")
    ] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Subprocessors added, changed and removed, version by version, with the day."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        changes = subprocessors.history(session)
    if subprocessor is not None:
        changes = [c for c in changes if c["id"] == subprocessor]
    if json_output:
        print_json(changes)
        return
    for c in changes:
        fields = "; ".join(f"{k}: {v['from']} → {v['to']}" for k, v in c.get("fields", {}).items())
        line = f"{c['at']:%Y-%m-%d} {c['version']} {c['change']} {c['id']}"
        console.print(f"{line} {fields}".rstrip(), soft_wrap=True, markup=False)
