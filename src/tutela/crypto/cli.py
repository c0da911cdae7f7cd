"""`tutela keys`: master key rotation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tutela.access.gate import Actor
from tutela.cli_support import DbOption, JsonOption, console, load_context, print_json, progress_bar
from tutela.crypto import flows

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
    """Rotate the master key while everything runs: the new key joins the key file, becomes
    the store's active key, every key is re-wrapped in batches, and the old key is retired.
    Run it again to resume a rotation that was interrupted.

    With TUTELA_MASTER_KEY, the new key set is written to --out: set the variable to it,
    restart the processes, then run this again.
    """
    with (
        load_context(db) as ctx,
        progress_bar("re-wrapping data keys", None, enabled=not json_output) as advance,
    ):
        report = flows.rotate(
            ctx=ctx,
            actor=Actor.console(),
            out=out,
            progress=advance,
            batch=ctx.settings.rotation_batch,
        )
    if json_output:
        print_json(report)
        return
    if not report["finished"]:
        console.print(
            f"new master key {report['master_key_id']} written to {out}: set TUTELA_MASTER_KEY "
            "to its content, restart every process, then run `tutela keys rotate` again"
        )
        return
    console.print(
        f"{'resumed: ' if report['resumed'] else ''}re-wrapped {report['rewrapped_data_keys']} "
        f"data keys under master key {report['master_key_id']}"
    )
    console.print(f"retired master keys: {', '.join(report['retired_master_key_ids'])}")
    if report["from_environment"]:
        console.print(f"set TUTELA_MASTER_KEY to the content of {out}, then delete that file")
