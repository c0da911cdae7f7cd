"""`tutela register`: the register of processing activities, derived from the active policy."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tutela.cli_support import console
from tutela.policy import load_policy
from tutela.register import render
from tutela.register.activities import register
from tutela.settings import get_settings

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
) -> None:
    """Export the register: one activity per purpose of the policy in force, every field
    read off the policy."""
    render.check(fmt, lang)
    if fmt == "pdf" and out is None:
        raise typer.BadParameter("a PDF is written to a file", param_hint="--out")
    content = render.render(register(load_policy(get_settings().policy_file), lang), fmt)
    if out is None:
        sys.stdout.write(content)
        return
    out.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    console.print(f"wrote {out}")
