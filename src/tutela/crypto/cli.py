"""`tutela keys`: master key rotation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.cli_support import DbOption, JsonOption, console, load_context, print_json, progress_bar
from tutela.clock import now
from tutela.context import Context
from tutela.crypto.keyring import rotate_master_key
from tutela.crypto.master_key import KeyFileError, MasterKey, create_key_file
from tutela.crypto.models import DataKey
from tutela.db import session_scope

app = typer.Typer(help="Manage key material.", no_args_is_help=True)


@app.command()
def rotate(
    db: DbOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the new master key when it comes from TUTELA_MASTER_KEY."
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Re-wrap every data key under a new master key, in one transaction.

    With a key file, the new key replaces it once the database is committed. With
    TUTELA_MASTER_KEY, the new key is written to --out and the variable must then be changed.
    """
    with load_context(db) as ctx:
        report = _rotate(ctx, out)
    if json_output:
        print_json(report)
        return
    console.print(
        f"re-wrapped {report['rewrapped_data_keys']} data keys under master key "
        f"{report['master_key_id']}"
    )
    if report["from_environment"]:
        console.print(f"set TUTELA_MASTER_KEY to the content of {out}, then delete that file")


def _rotate(ctx: Context, out: Path | None) -> dict:
    settings = ctx.settings
    from_env = settings.master_key is not None
    if from_env and out is None:
        raise KeyFileError(
            "the master key comes from TUTELA_MASTER_KEY: give --out FILE for the new one"
        )
    target = out if from_env else settings.key_file.with_name(settings.key_file.name + ".next")
    new_master = create_key_file(target, MasterKey.generate())
    try:
        with session_scope(ctx.engine) as session:
            keyring = ctx.keyring(session)
            total = session.scalar(select(func.count()).select_from(DataKey))
            with progress_bar("re-wrapping data keys", total, enabled=True) as advance:
                count = rotate_master_key(session, keyring, new_master, progress=advance)
            audit.record(
                session,
                [
                    Event(
                        Actor.console().name,
                        "rotate_keys",
                        "done",
                        detail={"rewrapped": count, "master_key_id": new_master.key_id},
                    )
                ],
                at=now(),
                policy_version=ctx.policy.version,
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if not from_env:
        os.replace(target, settings.key_file)
    ctx.forget_keys()
    return {
        "rewrapped_data_keys": count,
        "master_key_id": new_master.key_id,
        "key_file": str(target if from_env else settings.key_file),
        "from_environment": from_env,
    }
