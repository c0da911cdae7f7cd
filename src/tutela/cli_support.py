"""What every CLI command shares: options, the context, output and one-line errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela import jsonout
from tutela.access.gate import Actor
from tutela.access.models import Principal
from tutela.access.service import actor_of
from tutela.clock import as_of_datetime, now
from tutela.context import Context, build_context
from tutela.db import session_scope
from tutela.errors import NotFound
from tutela.settings import get_settings
from tutela.wire import day_problem

__all__ = [
    "AsOfOption",
    "AsOption",
    "DbOption",
    "JsonOption",
    "acting",
    "acting_as",
    "console",
    "emit",
    "err_console",
    "load_context",
    "moment",
    "print_json",
    "progress_bar",
]

# Piped, output is as wide as its values: no table cell is cut or folded, no line wrapped.
PIPED_WIDTH = 100_000
console = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
err_console = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: TUTELA_DATABASE_URL or sqlite:///tutela.db)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Act as this principal, through its roles (default: the operator)."),
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Act as of this day (YYYY-MM-DD) instead of today.")
]


@contextmanager
def load_context(db: str | None) -> Iterator[Context]:
    """The context of one command; its database connections are closed when it ends."""
    ctx = build_context(get_settings(), database_url=db)
    try:
        yield ctx
    finally:
        ctx.engine.dispose()


@contextmanager
def acting(
    db: str | None, as_: str | None, *, write: bool = True
) -> Iterator[tuple[Context, dict]]:
    """A command's context and one transaction, with what every flow takes: the session,
    the keyring, the record rules and the actor (`--as NAME`, or the operator)."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=write) as session:
        yield (
            ctx,
            {
                "session": session,
                "keyring": ctx.keyring(session),
                "rules": ctx.rules,
                "actor": acting_as(session, as_),
            },
        )


def acting_as(session: Session, name: str | None) -> Actor:
    """The principal named by --as, or the operator at the console."""
    if name is None:
        return Actor.console()
    principal = session.scalar(select(Principal).where(Principal.name == name))
    if principal is None:
        raise NotFound(f"no principal named '{name}'")
    return actor_of(principal)


def parse_day(value: str | None, option: str = "--as-of") -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("expected a date as YYYY-MM-DD", param_hint=option) from None
    if problem := day_problem(day):
        raise typer.BadParameter(problem, param_hint=option)
    return day


def moment(as_of: str | None) -> datetime:
    """The instant a command acts at: the end of its `--as-of` day, or now (today's too: a
    code e-mailed a minute ago has not expired by the end of the day)."""
    day = parse_day(as_of)
    return now() if day is None or day == now().date() else as_of_datetime(day)


def print_json(data: Any) -> None:
    typer.echo(jsonout.text(data, indent=True))


@contextmanager
def progress_bar(description: str, total: int | None, *, enabled: bool) -> Iterator[Any]:
    """A Rich progress bar on a terminal (stderr); a silent counter otherwise."""
    with progress_bars(description, total=total, enabled=enabled) as (advance,):
        yield advance


@contextmanager
def progress_bars(*descriptions: str, total: int | None, enabled: bool) -> Iterator[tuple]:
    """One Rich progress bar per description on a terminal (stderr), each shown once it
    first moves; silent counters otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield tuple((lambda _n: None) for _ in descriptions)
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        tasks: dict[str, Any] = {}

        def bar(name: str) -> Any:
            def advance(n: int) -> None:
                if name not in tasks:
                    tasks[name] = progress.add_task(name, total=total)
                progress.advance(tasks[name], n)

            return advance

        yield tuple(bar(name) for name in descriptions)


def emit(content: str | bytes, out: Path | None) -> None:
    """A document to stdout, or to the file `out` (a PDF needs one)."""
    if out is None:
        sys.stdout.write(content if isinstance(content, str) else content.decode())
        return
    out.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    console.print(f"wrote {out}")
