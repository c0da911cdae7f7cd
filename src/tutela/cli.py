"""The `tutela` command: assembles each domain's sub-commands; errors are one line, no traceback."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from tutela import __version__
from tutela.access.cli import access_app, disclosures_app
from tutela.audit.cli import app as audit_app
from tutela.breaches.cli_steps import app as breaches_app
from tutela.cli_support import (
    AsOfOption,
    DbOption,
    JsonOption,
    console,
    err_console,
    load_context,
    moment,
    print_json,
)
from tutela.clock import now
from tutela.consent.cli import app as consents_app
from tutela.crypto.cli import app as keys_app
from tutela.db import describe_error
from tutela.errors import TutelaError, Unreadable
from tutela.outbox.cli import app as outbox_app
from tutela.policy.cli import app as policy_app
from tutela.register.cli import app as register_app
from tutela.register.cli import notice, subprocessors_app
from tutela.register.policy_cli import activate, diff, history, impact, notices
from tutela.requests.cli import app as requests_app
from tutela.retention.cli import app as retention_app
from tutela.retention.cli import holds_app
from tutela.retention.cli import stats as retention_stats
from tutela.subjects.cli import app as subjects_app
from tutela.subjects.cli import demo
from tutela.web.cli import principals_app

if TYPE_CHECKING:
    from tutela.bootstrap import InitReport
    from tutela.context import Context

app = typer.Typer(
    name="tutela",
    help="Tutela: the data protection policy as running software.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(policy_app, name="policy")
for command in (activate, history, diff, impact, notices):
    policy_app.command()(command)
app.add_typer(register_app, name="register")
app.add_typer(subprocessors_app, name="subprocessors")
app.add_typer(subjects_app, name="subjects")
app.add_typer(keys_app, name="keys")
app.add_typer(principals_app, name="principals")
app.add_typer(access_app, name="access")
app.add_typer(disclosures_app, name="disclosures")
app.add_typer(audit_app, name="audit")
app.add_typer(consents_app, name="consents")
app.add_typer(retention_app, name="retention")
app.add_typer(holds_app, name="holds")
app.add_typer(requests_app, name="requests")
app.add_typer(outbox_app, name="outbox")
app.add_typer(breaches_app, name="breaches")
app.command("stats")(retention_stats)
app.command()(demo)
app.command()(notice)


@app.command()
def init(db: DbOption = None, json_output: JsonOption = False) -> None:
    """Create or upgrade the schema and key material; safe to run again."""
    from tutela.bootstrap import initialise

    with load_context(db) as ctx:
        report = initialise(ctx)
    legacy = report.legacy_trail
    if json_output:
        print_json(report.as_dict())
    else:
        _print_init(ctx, report)
    if legacy is not None and not legacy.intact:
        err_console.print(
            f"the audit trail written before keyed chains is broken at event {legacy.first_bad} "
            f"({legacy.problem}): it was left as it is, unkeyed; treat it as an incident"
        )
        raise typer.Exit(1)


def _print_init(ctx: Context, report: InitReport) -> None:
    if report.legacy_trail is not None and report.legacy_trail.intact:
        console.print(
            f"audit trail keyed: {report.legacy_trail.checked} events written before keyed "
            "chains checked and linked again under the master key's chain key"
        )
    if report.key_file_created:
        console.print(f"created master key file {ctx.settings.key_file} (mode 0600; back it up)")
    if report.opengdpr_test_pair_created:
        console.print(
            f"created a self-signed OpenGDPR test key and certificate "
            f"({ctx.settings.opengdpr_key_file}, {ctx.settings.opengdpr_certificate_file}); "
            "production needs a certificate issued by a trusted authority"
        )
    console.print("database schema is up to date")
    if report.admin_key:
        console.print("administrator API key (shown once, store it now):")
        console.print(report.admin_key, markup=False, highlight=False)
    if report.admin_password:
        console.print(
            f"console sign-in at /console: {report.admin_name} with this password "
            "(shown once; change it with `tutela principals set-password`):"
        )
        console.print(report.admin_password, markup=False, highlight=False)


@app.command()
def serve(
    db: DbOption = None,
    host: str | None = typer.Option(None, help="Address to listen on (default from settings)."),
    port: int | None = typer.Option(None, help="Port to listen on (default from settings)."),
    ssl_certfile: Path | None = typer.Option(None, help="TLS certificate (PEM)."),
    ssl_keyfile: Path | None = typer.Option(None, help="TLS private key (PEM)."),
    workers: int = typer.Option(1, min=1, help="Server processes (each serves every endpoint)."),
) -> None:
    """Serve the REST API (OpenAPI documentation at /docs)."""
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise typer.BadParameter("give both --ssl-certfile and --ssl-keyfile, or neither")
    import uvicorn

    from tutela.api import create_app

    with load_context(db) as ctx:  # validates the policy and the database before serving
        settings = ctx.settings
        app = create_app(ctx) if workers == 1 else "tutela.api:create_app_from_settings"
        if workers == 1:
            app.state.forecasts.warm(ctx, now())  # the dashboard's chart, before it is asked
        if db:
            os.environ["TUTELA_DATABASE_URL"] = db  # for worker processes
        uvicorn.run(
            app,
            factory=workers > 1,
            workers=workers,
            host=host or settings.host,
            port=port or settings.port,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            access_log=False,  # the audit trail records every access; no second log of ids
            proxy_headers=False,  # the app believes forwarded headers from trusted proxies only
            server_header=False,
        )


@app.command()
def version() -> None:
    """Print Tutela's version."""
    console.print(__version__)


def _database_message(exc: SQLAlchemyError) -> str:
    """The error's type and code, never the statement or its parameters."""
    text = describe_error(exc)
    missing = "no such table" in text or "42P01" in text  # 42P01: undefined table
    return f"database error: {text}{' (run `tutela init`?)' if missing else ''}"


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Sweep once and exit.")] = False,
    interval_hours: Annotated[
        float, typer.Option(min=0.001, help="Hours between sweeps (default: daily).")
    ] = 24.0,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Run scheduled jobs: the outbox every minute, the daily sweep (retention, requests
    never verified) once a day; several workers never sweep at once."""
    import logging
    import signal
    import threading

    from tutela.worker import deliver_once, sweep_once, work

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with load_context(db) as ctx:
        if once:
            at = moment(as_of)
            report = sweep_once(ctx, at) or {"skipped": "another worker is sweeping"}
            report["outbox"] = deliver_once(ctx, at)
            if json_output:
                print_json(report)
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        work(ctx, interval_seconds=interval_hours * 3600, stop=stop)


def main() -> None:
    try:
        code = app(standalone_mode=False)  # an Exit raised by a command comes back as its code
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: bad option, missing argument...
        exc.show()
        sys.exit(getattr(exc, "exit_code", 2))
    except TutelaError as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        if isinstance(exc, Unreadable):  # the operator may know why; an API caller may not
            err_console.print(f"why (in the trail): {exc.reason}", markup=False, highlight=False)
        sys.exit(1)
    except SQLAlchemyError as exc:
        err_console.print(_database_message(exc), markup=False, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
