"""`tutela breaches assess|notify|communicate|export`: the risk decision, the notification to
the authority, telling the people, and the register (Art. 33-34)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tutela.breaches import book, drafts, service, steps
from tutela.breaches.cli import app, handler
from tutela.breaches.communicate import communicate as tell
from tutela.cli_support import (
    AsOption,
    DbOption,
    JsonOption,
    console,
    emit,
    load_context,
    print_json,
)
from tutela.clock import now
from tutela.db import session_scope

__all__ = ["app"]  # `tutela breaches`, with these commands added

OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write to this file (PDF needs one).")
]
LangOption = Annotated[str, typer.Option("--lang", help="en or fr.")]


def _check(fmt: str, lang: str, formats, out: Path | None) -> None:
    if fmt not in formats:
        raise typer.BadParameter(f"expected one of: {', '.join(formats)}", param_hint="--format")
    if lang not in ("en", "fr"):
        raise typer.BadParameter("expected en or fr", param_hint="--lang")
    if fmt == "pdf" and out is None:
        raise typer.BadParameter("a PDF is written to a file", param_hint="--out")


@app.command()
def assess(
    breach_id: Annotated[str, typer.Argument(help="The breach's id (B-…).")],
    recipients: Annotated[
        str | None,
        typer.Option(help="Confidentiality: known_recipients, unknown_recipients (the worst)."),
    ] = None,
    integrity: Annotated[
        str | None, typer.Option(help="Integrity: recoverable, not_recoverable (the worst).")
    ] = None,
    availability: Annotated[
        str | None, typer.Option(help="Availability: temporary, permanent (the worst).")
    ] = None,
    malicious: Annotated[
        bool, typer.Option("--malicious", help="The breach was intended.")
    ] = False,
    identification: Annotated[
        str | None,
        typer.Option(help="negligible, limited, significant, maximum (default: the categories')."),
    ] = None,
    measures: Annotated[
        str | None, typer.Option(help="Measures taken or proposed (kept sealed).")
    ] = None,
    consequences: Annotated[
        str | None, typer.Option(help="Likely consequences beyond the categories' (sealed).")
    ] = None,
    as_: AsOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Score the breach (ENISA: context x identification + circumstances) and decide, with
    the reasons, whether to notify the authority (Art. 33) and to tell the people (Art. 34)."""
    given = {
        "confidentiality": recipients,
        "integrity": integrity,
        "availability": availability,
        "malicious": malicious,
        "identification": identification,
    }
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        actor = handler(session, ctx.policy, as_)
        result = steps.assess(
            session=session,
            keyring=ctx.keyring(session),
            policy=ctx.policy,
            actor=actor,
            breach=service.get(session, breach_id),
            at=now(),
            given=given,
            measures=measures,
            consequences=consequences,
        ).as_dict()
    if json_output:
        print_json({"breach": breach_id, **result})
        return
    console.print(
        f"breach {breach_id}: severity {result['severity']} ({result['level']}) = context "
        f"{result['context']} ({result['context_from']}) x identification "
        f"{result['identification_score']} ({result['identification']}) + circumstances "
        f"{result['circumstances_score']}",
        markup=False,
    )
    if result["assumed"]:
        console.print(f"  scored at their worst, not given: {', '.join(result['assumed'])}")
    verdict = {True: "yes", False: "no"}
    console.print(f"notify the authority: {verdict[result['notify_authority']]}", markup=False)
    console.print(f"  {result['authority_reason']}", markup=False)
    console.print(f"tell the people: {verdict[result['tell_people']]}", markup=False)
    console.print(f"  {result['people_reason']}", markup=False)


@app.command()
def notify(
    breach_id: Annotated[str, typer.Argument(help="The breach's id (B-…).")],
    fmt: Annotated[str, typer.Option("--format", help="json, html or pdf.")] = "html",
    lang: LangOption = "en",
    out: OutOption = None,
    submitted: Annotated[
        bool, typer.Option("--submitted", help="Record that this draft was sent to the authority.")
    ] = False,
    reference: Annotated[str | None, typer.Option(help="The authority's reference.")] = None,
    delay_reason: Annotated[
        str | None, typer.Option("--delay-reason", help="Past the deadline: why (Art. 33(1)).")
    ] = None,
    as_: AsOption = None,
    db: DbOption = None,
) -> None:
    """Draft the notification to the supervisory authority with every Art. 33(3) item (the
    next phase: initial, then follow-ups); with --submitted, record it as sent."""
    _check(fmt, lang, drafts.FORMATS, out)
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        actor = handler(session, ctx.policy, as_)
        keyring, breach = ctx.keyring(session), service.get(session, breach_id)
        content = drafts.draft(
            session=session,
            keyring=keyring,
            policy=ctx.policy,
            actor=actor,
            breach=breach,
            at=now(),
            lang=lang,
            delay_reason=delay_reason,
        )
        if submitted:
            steps.record_notification(
                session=session,
                keyring=keyring,
                policy=ctx.policy,
                actor=actor,
                breach=breach,
                at=now(),
                draft=content,
                reference=reference,
                delay_reason=delay_reason,
            )
    emit(drafts.render(content, fmt), out)
    if submitted:
        console.print(f"breach {breach_id}: {content['phase_name']} recorded as submitted")


@app.command()
def communicate(
    breach_id: Annotated[str, typer.Argument(help="The breach's id (B-…).")],
    public: Annotated[
        bool, typer.Option("--public", help="A public communication instead (Art. 34(3)(c)).")
    ] = False,
    required: Annotated[
        bool,
        typer.Option("--required-by-authority", help="The authority required it (Art. 34(4))."),
    ] = False,
    as_: AsOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Tell each person concerned, in their language, through the outbox (the worker sends);
    above the policy's number of people, or with --public, a public communication."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        actor = handler(session, ctx.policy, as_)
        result = tell(
            session=session,
            keyring=ctx.keyring(session),
            policy=ctx.policy,
            actor=actor,
            breach=service.get(session, breach_id),
            at=now(),
            public=public,
            required_by_authority=required,
        )
    if json_output:
        print_json(result)
        return
    if result["how"] == "individual":
        console.print(f"breach {breach_id}: {result['queued']:,} messages queued")
    apart = {
        "deceased": "deceased, not written to",
        "spared_encrypted": "whose data leaked only encrypted, not at risk",
    }
    for key, words in apart.items():
        if result[key]:
            console.print(f"{result[key]:,} people {words}")
    if result.get("unreachable"):
        console.print(f"{result['unreachable']:,} people have no e-mail address: publish this")
    if "text" in result:
        console.print(result["text"], markup=False, highlight=False)


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv, html or pdf.")] = "html",
    lang: LangOption = "en",
    out: OutOption = None,
    as_: AsOption = None,
    db: DbOption = None,
) -> None:
    """The register of breaches (Art. 33(5)): every one, notified or not, with its facts,
    effects, remedial action and, when not notified, why."""
    _check(fmt, lang, book.FORMATS, out)
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        handler(session, ctx.policy, as_)
        table = book.rows(session, ctx.keyring(session), ctx.policy, now(), lang)
        content = book.export(table, fmt, lang, ctx.policy)
    emit(content, out)
