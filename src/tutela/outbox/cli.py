"""`tutela outbox`: deliver queued messages, list them (without their content)."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import select

from tutela.cli_support import (
    AsOfOption,
    DbOption,
    JsonOption,
    console,
    load_context,
    moment,
    print_json,
)
from tutela.db import session_scope
from tutela.outbox.models import OutboxMessage
from tutela.outbox.service import deliver_due

app = typer.Typer(help="Messages to people and recipients (e-mail).", no_args_is_help=True)


@app.command()
def send(as_of: AsOfOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Deliver every message due (by the end of --as-of DAY); failures are retried later."""
    with load_context(db) as ctx:
        counts = deliver_due(ctx, at=moment(as_of))
    if json_output:
        print_json(counts)
    else:
        console.print(", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command("list")
def list_(db: DbOption = None, json_output: JsonOption = False) -> None:
    """Queued and delivered messages: status and attempts, never the address or the text."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        rows = [
            {
                "id": m.id,
                "channel": m.channel,
                "subject": m.subject,
                "status": m.status,
                "attempts": m.attempts,
                "created_at": m.created_at,
                "sent_at": m.sent_at,
                "last_error": m.last_error,
            }
            for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]
    if json_output:
        print_json(rows)
        return
    table = Table("id", "channel", "status", "attempts", "subject", "error", title="Outbox")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["channel"],
            r["status"],
            str(r["attempts"]),
            r["subject"],
            r["last_error"] or "",
        )
    console.print(table)
