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
    """Re-wrap every data key under a new master key, in one transaction.

    With a key file, the new key replaces it once the database is committed. With
    TUTELA_MASTER_KEY, the new key is written to --out and the variable must then be changed.
    """
    with (
        load_context(db) as ctx,
        progress_bar("re-wrapping data keys", None, enabled=not json_output) as advance,
    ):
        report = flows.rotate(ctx=ctx, actor=Actor.console(), out=out, progress=advance)
    if json_output:
        print_json(report)
        return
    console.print(
        f"re-wrapped {report['rewrapped_data_keys']} data keys under master key "
        f"{report['master_key_id']}"
    )
    if report["from_environment"]:
        console.print(f"set TUTELA_MASTER_KEY to the content of {out}, then delete that file")
