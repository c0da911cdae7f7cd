"""`tutela policy activate|history|diff`: the store's policy versions (§24)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tutela.access.gate import Actor
from tutela.cli_support import (
    AsOfOption,
    DbOption,
    JsonOption,
    console,
    load_context,
    moment,
    parse_day,
    print_json,
)
from tutela.clock import now, today
from tutela.db import session_scope
from tutela.errors import NotFound
from tutela.policy import Policy, PolicyError, parse_policy, policy_text
from tutela.policy.loader import parse_stored
from tutela.register import flows, notify, versions
from tutela.register.diff import diff as compare
from tutela.register.impact import impact as forecast

__all__ = ["activate", "diff", "history", "impact", "notices"]


def _read(file: Path) -> str:
    try:
        return file.read_text("utf-8")
    except OSError as exc:
        raise PolicyError(str(file), [f"cannot read the file ({exc.strerror})"]) from None


def activate(
    file: Annotated[Path, typer.Argument(help="The policy YAML file of the new version.")],
    reason: Annotated[
        str | None,
        typer.Option(help="Why: required when the version removes or changes a security measure."),
    ] = None,
    db: DbOption = None,
    as_of: AsOfOption = None,
    json_output: JsonOption = False,
) -> None:
    """Make a new policy version the one in force: stored with its hash, who activated it and
    when, and recorded in the audit trail with what it changes."""
    text = _read(file)
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        # A store made before versions keeps the policy it ran on as its first version.
        flows.record_first(
            session=session,
            policy=ctx.policy,
            text=policy_text(ctx.settings.policy_file),
            actor=Actor.console(),
            at=now(),
        )
        done = flows.activate(
            session=session,
            current=ctx.policy,
            text=text,
            source=str(file),
            actor=Actor.console(),
            at=moment(as_of),
            reason=reason,
        )
    out = {"version": done.version, "digest": done.digest, "change": done.change}
    if json_output:
        print_json(out)
        return
    console.print(f"[green]activated[/green] policy {done.version} (digest {done.digest[:16]})")
    _print_change(done.change)


def history(
    text: Annotated[
        str | None, typer.Option("--text", help="Print the text of this stored version.")
    ] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """The versions activated in this store, oldest first; the last is in force."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        if text is not None:
            found = versions.text_of(session, text)
            if found is None:
                raise NotFound(f"no stored policy version '{text}'")
            typer.echo(found, nl=False)
            return
        rows = [
            {
                "seq": row.seq,
                "version": row.version,
                "digest": row.digest,
                "activated_at": row.activated_at,
                "activated_by": row.activated_by,
                "reason": row.reason,
            }
            for row in versions.history(session)
        ]
    if json_output:
        print_json(rows)
        return
    table = Table(
        "seq", "version", "activated at", "by", "digest", "reason", title="Policy versions"
    )
    for row in rows:
        table.add_row(
            str(row["seq"]),
            row["version"],
            f"{row['activated_at']:%Y-%m-%d %H:%M}Z",
            row["activated_by"],
            row["digest"][:16],
            row["reason"] or "",
        )
    console.print(table)


def notices(db: DbOption = None, json_output: JsonOption = False) -> None:
    """The people told of each new purpose (Art. 13(3)): one job per purpose a version
    added, carried out by `tutela worker` a batch at a time."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        rows = [
            {
                "id": job.id,
                "version": job.version,
                "purpose": job.purpose,
                "status": job.status,
                "queued": job.queued,
                "created_at": job.created_at,
                "done_at": job.done_at,
            }
            for job in notify.jobs(session)
        ]
    if json_output:
        print_json(rows)
        return
    table = Table(
        "id", "version", "purpose", "status", "people told", title="Notices of new purposes"
    )
    for r in rows:
        table.add_row(str(r["id"]), r["version"], r["purpose"], r["status"], f"{r['queued']:,}")
    console.print(table)


def diff(
    old: Annotated[str, typer.Argument(help="A policy file, or a stored version.")],
    new: Annotated[str, typer.Argument(help="A policy file, or a stored version.")],
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """What changes from OLD to NEW in register terms: purposes, legal bases, grants (who
    gains or loses access to what), retention periods, subprocessors, security measures."""
    change = compare(_policy(old, db), _policy(new, db))
    if json_output:
        print_json(change)
        return
    console.print(f"[bold]Policy {change['from']} → {change['to']}[/bold]")
    _print_change(change)


def impact(
    file: Annotated[str, typer.Argument(help="A policy file, or a stored version.")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The day to count for (YYYY-MM-DD; default today)."),
    ] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """What FILE would do to the data held, against the policy in force: people whose data
    falls due at --as-of per retention rule and action, and the reads that would start or
    stop being refused."""
    new = _policy(file, db)
    day = parse_day(as_of) or today()
    with load_context(db) as ctx:
        found = forecast(
            engine=ctx.engine, keyring=ctx.open_keyring(), current=ctx.policy, new=new, as_of=day
        )
    if json_output:
        print_json(found)
        return
    table = Table(
        "rule",
        "action",
        f"in force ({found['from']})",
        f"new ({found['to']})",
        "change",
        title=f"People whose data falls due on {day}",
    )
    for row in found["retention"]:
        table.add_row(
            row["rule"],
            row["action"],
            "-" if row["in_force"] is None else f"{row['in_force']:,}",
            "-" if row["new"] is None else f"{row['new']:,}",
            f"{row['change']:+,}",
        )
    console.print(table)
    for label, key in (("refused", "reads_refused"), ("allowed", "reads_allowed")):
        for g in found[key]:
            console.print(
                f"reads {label}: {g['role']} reading {g['category']} for {g['purpose']}",
                soft_wrap=True,
                markup=False,
            )


def _policy(name: str, db: str | None) -> Policy:
    """A policy file, or else a version stored in the store."""
    path = Path(name)
    if path.exists():
        return parse_policy(_read(path), source=name)
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        text = versions.text_of(session, name)
    if text is None:
        raise NotFound(f"no policy file nor stored version '{name}'")
    return parse_stored(text)


def _print_change(change: dict) -> None:
    lines = []
    purposes = change["purposes"]
    lines += [f"+ purpose {p['id']}: {p['name']}" for p in purposes["added"]]
    lines += [f"- purpose {p['id']}: {p['name']}" for p in purposes["removed"]]
    for p in purposes["changed"]:
        for term, values in p.items():
            if term != "id":
                lines.append(f"~ purpose {p['id']} {term}: {values['from']} → {values['to']}")
    grants = change["grants"]
    lines += [
        f"+ {g['role']} may read {g['category']} for {g['purpose']}" for g in grants["widened"]
    ]
    lines += [
        f"- {g['role']} may no longer read {g['category']} for {g['purpose']}"
        for g in grants["narrowed"]
    ]
    retention = change["retention"]
    lines += [f"+ retention rule {r}" for r in retention["added"]]
    lines += [f"- retention rule {r}" for r in retention["removed"]]
    for r in retention["changed"]:
        for term, values in r.items():
            if term != "id":
                lines.append(f"~ retention {r['id']} {term}: {values['from']} → {values['to']}")
    for section in ("subprocessors", "security_measures"):
        items = change[section]
        lines += [f"+ {section[:-1]} {i}" for i in items["added"]]
        lines += [f"- {section[:-1]} {i}" for i in items["removed"]]
        for item in items["changed"]:
            for key, values in item["fields"].items():
                lines.append(
                    f"~ {section[:-1]} {item['id']} {key}: {values['from']} → {values['to']}"
                )
    recipients = change["recipients"]
    lines += [f"+ recipient {r}" for r in recipients["added"]]
    lines += [f"- recipient {r}" for r in recipients["removed"]]
    for line in lines or ["no change in register terms"]:
        console.print(line, soft_wrap=True, markup=False)
