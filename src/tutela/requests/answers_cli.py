"""`tutela requests` commands that decide a request and give back its answer: process,
refuse, lift a restriction, record a death, export the copy, the letter, the receipt."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from tutela.cli_support import (
    AsOfOption,
    AsOption,
    DbOption,
    JsonOption,
    acting,
    acting_as,
    console,
    load_context,
    moment,
    parse_day,
    print_json,
)
from tutela.db import session_scope
from tutela.requests import death as deaths
from tutela.requests import export as exports
from tutela.requests import flows
from tutela.requests.decision import Outcome
from tutela.requests.notices import contacts

__all__ = [
    "death",
    "export",
    "letter",
    "lift_restriction",
    "print_answer",
    "process",
    "receipt",
    "refuse",
]

RequestId = Annotated[str, typer.Argument(help="The request's id.")]
OutOption = Annotated[Path, typer.Option(help="File to write (must not exist; mode 0600).")]


def print_answer(request_id: str, answer: dict, reply: str | None) -> None:
    console.print(f"request {request_id} ({answer['type']}): {answer['outcome']}")
    for item in answer.get("items", []):
        if item["action"] != "give":
            console.print(
                f"  {item['category']}: {item['action']}: {item['reason']}", soft_wrap=True
            )
    for line in [*answer.get("done", []), *answer.get("reasons", [])]:
        console.print(f"  {line}", soft_wrap=True)
    if reply == "letter":
        console.print(f"  write to the person: tutela requests letter {request_id}")
    elif reply == "email":
        console.print("  the answer is e-mailed to the person (tutela outbox send)")


def process(
    request_id: RequestId,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Decide a verified request and carry it out: each category's action, why, and until
    when anything kept is kept; the person is answered through their channel."""
    with acting(db, as_) as (ctx, by):
        answered = flows.process(
            **by,
            request_id=request_id,
            at=moment(as_of),
        )
    _summarise(request_id, answered, ctx.policy, json_output)


def _summarise(request_id: str, answered: flows.Answered, policy, json_output: bool) -> None:
    """The answer as the DPO reads it: what was decided, done and why, and how it reaches
    the person (the copy itself is for the person: `tutela requests export`)."""
    summary = {**answered.answer, "reply": answered.reply, "contacts": contacts(policy)}
    if answered.decision.type in exports.EXPORTABLE and answered.decision.outcome == Outcome.DONE:
        summary["copy"] = f"tutela requests export {request_id}"
    if json_output:
        print_json(summary)
    else:
        print_answer(request_id, summary, answered.reply)


def refuse(
    request_id: RequestId,
    reason: Annotated[str, typer.Option(help="Why it is manifestly unfounded or excessive.")],
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Refuse a request as manifestly unfounded or excessive (Art. 12(5)), with reasons."""
    with acting(db, as_) as (ctx, by):
        answered = flows.refuse(
            **by,
            request_id=request_id,
            reason=reason,
            at=moment(as_of),
        )
    _summarise(request_id, answered, ctx.policy, json_output)


def lift_restriction(
    external_id: Annotated[str, typer.Argument(help="The person's id in your systems.")],
    reason: Annotated[str, typer.Option(help="Why (no personal data): told to the person.")],
    told_by_letter: Annotated[
        bool,
        typer.Option("--told-by-letter", help="No e-mail on file: the person was written to."),
    ] = False,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Lift a person's restriction (the DPO); the person and the recipients are told."""
    with acting(db, as_) as (_, by):
        lifted = flows.lift_restriction(
            **by,
            external_id=external_id,
            reason=reason,
            at=moment(as_of),
            told_by_letter=told_by_letter,
        )
    if json_output:
        print_json(lifted)
    else:
        told = "by e-mail" if lifted["person_told"] else "by the letter you sent"
        console.print(f"restriction of {external_id} lifted; the person is told {told}")


def death(
    external_id: str,
    on: Annotated[str, typer.Option(help="Day of death (YYYY-MM-DD).")],
    proof: Annotated[str, typer.Option(help="Reference of the proof checked (certificate).")],
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record a death on a checked proof and carry out the person's directive (§16)."""
    day = parse_day(on, "--on")
    with acting(db, as_) as (_, by):
        outcome = deaths.record_death(
            **by,
            external_id=external_id,
            died_on=day,
            proof=proof,
            at=moment(as_of),
        )
    if json_output:
        print_json(outcome)
    else:
        console.print(f"death recorded; directive: {outcome['directive'] or 'none'}")
        for line in outcome.get("done", []):
            console.print(f"  {line}", soft_wrap=True)


def _write(out: Path, content: str | bytes) -> None:
    exports.write_private(out, content)
    console.print(f"wrote {out} (readable by you only): hand it to the person, then delete it")


def export(
    request_id: RequestId,
    fmt: Annotated[str, typer.Option("--format", help="json, csv, html or pdf.")] = "html",
    out: OutOption = ...,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
) -> None:
    """Write the answer with its copy of the data, for the person (access, portability)."""
    if out.exists():
        raise typer.BadParameter(f"{out} exists; refusing to overwrite", param_hint="--out")
    with acting(db, as_, write=False) as (_, by):
        content = flows.export_copy(
            **by,
            request_id=request_id,
            fmt=fmt,
            at=moment(as_of),
        )
    _write(out, content)


def letter(
    request_id: RequestId,
    fmt: Annotated[str, typer.Option("--format", help="html or pdf.")] = "pdf",
    out: OutOption = ...,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
) -> None:
    """Write the answer as a letter to print and post: outcome, reasons, what was done and
    kept, the erasure receipt, the DPO and the complaint route (and the copy, for access)."""
    if out.exists():
        raise typer.BadParameter(f"{out} exists; refusing to overwrite", param_hint="--out")
    with acting(db, as_, write=False) as (_, by):
        content = flows.letter(
            **by,
            request_id=request_id,
            fmt=fmt,
            at=moment(as_of),
        )
    _write(out, content)


def receipt(
    request_id: RequestId,
    as_: AsOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """The erasure receipt of a request: what was erased and kept, until when, the data key
    destroyed, the trail events that record it and the policy version."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        shown = flows.receipt(
            session=session, policy=ctx.policy, actor=acting_as(session, as_), request_id=request_id
        )
    if json_output:
        print_json(shown)
        return
    say = partial(console.print, soft_wrap=True)  # piped, a digest stays on one line
    say(f"receipt {shown['receipt']} (digest {shown['digest']})")
    say(f"request {shown['request']}, person {shown['external_id']}, at {shown['at']}")
    for e in shown["erased"]:
        say(f"  erased: {e['category']} ({e['records']})")
    for k in shown["kept"]:
        say(
            f"  kept: {k['category']} for {', '.join(k['grounds'])} until {k['until'] or 'not known yet'}"
        )
    for key in shown["data_keys_destroyed"]:
        say(f"  data key destroyed: {key}")
    for e in shown["events"]:
        say(f"  trail event {e['seq']}: {e['hash'] or 'missing from the trail'}")
    say(f"  policy version {shown['policy_version']}")
