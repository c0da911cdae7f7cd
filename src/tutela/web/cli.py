"""`tutela principals set-password|enable-totp`: how staff sign in to the console."""

from __future__ import annotations

from typing import Annotated

import typer

from tutela.access.cli import principals_app
from tutela.access.service import get_principal
from tutela.cli_support import DbOption, acting_as, console, load_context
from tutela.clock import now
from tutela.db import session_scope
from tutela.web import accounts

__all__ = ["principals_app"]  # with these commands added


@principals_app.command("set-password")
def set_password(
    name: Annotated[str, typer.Argument(help="The principal (staff) who signs in.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            confirmation_prompt=True,
            hide_input=True,
            envvar="TUTELA_NEW_PASSWORD",
            help=f"At least {accounts.MIN_PASSWORD} characters; asked for when not given.",
        ),
    ],
    db: DbOption = None,
) -> None:
    """Set the password the principal signs in to the console with (kept as argon2id)."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        accounts.set_password(
            session=session,
            policy=ctx.policy,
            principal=get_principal(session=session, name=name),
            password=password,
            by=acting_as(session, None).name,
            at=now(),
        )
    console.print(f"{name} may sign in to the console at /console")


@principals_app.command("enable-totp")
def enable_totp(
    name: Annotated[str, typer.Argument(help="The principal (staff) who signs in.")],
    db: DbOption = None,
) -> None:
    """Ask a code from an authenticator app at each sign-in; prints the otpauth:// URI once,
    for the principal to add to their app."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        uri = accounts.enable_totp(
            session=session,
            keyring=ctx.keyring(session),
            policy=ctx.policy,
            principal=get_principal(session=session, name=name),
            by=acting_as(session, None).name,
            at=now(),
        )
    console.print(f"{name}: add this to an authenticator app (shown once):")
    console.print(uri, markup=False, highlight=False, soft_wrap=True)
