"""`tutela outbox`: deliver queued messages, list them (without their content)."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import select

from tutela.cli_support import DbOption, JsonOption, console, load_context, print_json
from tutela.clock import now
from tutela.context import Context
from tutela.db import session_scope
from tutela.outbox.models import OutboxMessage
from tutela.outbox.service import SmtpSettings, deliver

app = typer.Typer(help="Messages to people and recipients (e-mail).", no_args_is_help=True)


def smtp_settings(ctx: Context) -> SmtpSettings:
    s = ctx.settings
    return SmtpSettings(
        host=s.smtp_host,
        port=s.smtp_port,
        sender=s.smtp_sender or ctx.policy.controller.email,
        starttls=s.smtp_starttls,
        user=s.smtp_user,
        password=s.smtp_password.get_secret_value() if s.smtp_password else None,
    )


@app.command()
def send(db: DbOption = None, json_output: JsonOption = False) -> None:
    """Deliver every message due; failures are retried later with backoff."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        counts = deliver(
            session=session, keyring=ctx.keyring(session), smtp=smtp_settings(ctx), at=now()
        )
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
    table = Table("id", "status", "attempts", "subject", "error", title="Outbox")
    for r in rows:
        table.add_row(
            str(r["id"]), r["status"], str(r["attempts"]), r["subject"], r["last_error"] or ""
        )
    console.print(table)
