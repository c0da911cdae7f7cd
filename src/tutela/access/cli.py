"""`tutela principals`, `tutela access` and `tutela disclosures` (§8)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated

import typer
from rich.table import Table

from tutela.access import flows, oversight, service
from tutela.cli_support import (
    AsOfOption,
    AsOption,
    DbOption,
    JsonOption,
    acting_as,
    console,
    load_context,
    moment,
    parse_day,
    print_json,
)
from tutela.clock import as_of_datetime
from tutela.db import session_scope
from tutela.subjects import service as subjects
from tutela.subjects.listing import external_ids

principals_app = typer.Typer(
    help="Staff, applications and external recipients.", no_args_is_help=True
)
access_app = typer.Typer(
    help="Reports of improper access, and the access review.", no_args_is_help=True
)
disclosures_app = typer.Typer(help="Disclosures to authorities (§8).", no_args_is_help=True)


def _day_start(value: str | None, option: str) -> datetime | None:
    day = parse_day(value, option)
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


@principals_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A unique name (a person, an application...).")],
    role: Annotated[list[str], typer.Option(help="A recipient role of the policy (repeatable).")],
    from_: Annotated[str | None, typer.Option("--from", help="Arrival day (YYYY-MM-DD).")] = None,
    until: Annotated[
        str | None, typer.Option(help="Departure day (YYYY-MM-DD): the last day of access.")
    ] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add a principal and print its API key, once."""
    active_from = _day_start(from_, "--from")
    last_day = _day_start(until, "--until")
    active_until = last_day + timedelta(days=1) if last_day else None
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        principal, key = flows.add_principal(
            session=session,
            policy=ctx.policy,
            actor=acting_as(session, None),
            name=name,
            roles=role,
            active_from=active_from,
            active_until=active_until,
            at=moment(as_of),
        )
        roles = list(principal.roles)
    if json_output:
        print_json({"name": name, "roles": roles, "api_key": key})
        return
    console.print(f"principal {name} ({', '.join(roles)}); API key, shown once:")
    console.print(key, markup=False, highlight=False)


@principals_app.command("list")
def list_(db: DbOption = None, json_output: JsonOption = False) -> None:
    """List principals with their roles and active dates."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        rows = [
            {
                "name": p.name,
                "roles": list(p.roles),
                "active_from": p.active_from,
                "active_until": p.active_until,
                "active_keys": service.active_key_count(session=session, principal=p),
            }
            for p in service.list_principals(session=session)
        ]
    if json_output:
        print_json(rows)
        return
    table = Table("name", "roles", "from", "until", "keys", title="Principals")
    for r in rows:
        table.add_row(
            r["name"],
            ", ".join(r["roles"]),
            str(r["active_from"] or "-"),
            str(r["active_until"] or "-"),
            str(r["active_keys"]),
        )
    console.print(table)


@principals_app.command("deactivate")
def deactivate(
    name: str, as_of: AsOfOption = None, db: DbOption = None, json_output: JsonOption = False
) -> None:
    """End a principal's access now and revoke its keys (a departure). Refused for the last
    active holder of an administrator role of the policy."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        revoked = flows.deactivate_principal(
            session=session,
            policy=ctx.policy,
            actor=acting_as(session, None),
            name=name,
            at=moment(as_of),
        )
    if json_output:
        print_json({"name": name, "keys_revoked": revoked})
    else:
        console.print(f"{name} deactivated; {revoked} key(s) revoked")


@principals_app.command("reissue-key")
def reissue_key(
    name: str, as_of: AsOfOption = None, db: DbOption = None, json_output: JsonOption = False
) -> None:
    """Revoke the principal's keys and print a new one, once (a key lost or leaked)."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        revoked, key = flows.reissue_key(
            session=session,
            policy=ctx.policy,
            actor=acting_as(session, None),
            name=name,
            at=moment(as_of),
        )
    if json_output:
        print_json({"name": name, "keys_revoked": revoked, "api_key": key})
        return
    console.print(f"{name}: {revoked} key(s) revoked; new API key, shown once:")
    console.print(key, markup=False, highlight=False)


@principals_app.command("roles")
def roles(
    name: str,
    add: Annotated[
        list[str] | None, typer.Option("--add", help="A role of the policy to give (repeatable).")
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A role to take away (repeatable).")
    ] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Give or take roles; takes effect at the principal's next request, with the same key."""
    if not add and not remove:
        raise typer.BadParameter("give --add ROLE or --remove ROLE", param_hint="--add/--remove")
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        before, after = flows.change_roles(
            session=session,
            policy=ctx.policy,
            actor=acting_as(session, None),
            name=name,
            add=add or [],
            remove=remove or [],
            at=moment(as_of),
        )
    if json_output:
        print_json({"name": name, "roles_before": before, "roles": after})
    else:
        console.print(f"{name}: roles {', '.join(before)} -> {', '.join(after)}")


@access_app.command("report")
def report(
    description: Annotated[str, typer.Option(help="What you can reach and should not.")],
    subject: Annotated[
        str | None, typer.Option(help="External id of the person concerned.")
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option(help="Category concerned (repeatable).")
    ] = None,
    as_: AsOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Report access you believe you should not have (§8); the DPO is told."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        subject_id = subjects.get(session=session, external_id=subject).id if subject else None
        filed = flows.report_access(
            session=session,
            policy=ctx.policy,
            keyring=ctx.keyring(session),
            actor=acting_as(session, as_),
            subject_id=subject_id,
            categories=category or [],
            description=description,
            at=moment(as_of),
        )
        report_id = filed.id
    if json_output:
        print_json({"id": report_id, "status": "open"})
    else:
        console.print(f"access report {report_id} filed; the DPO will look into it")


@access_app.command("reports")
def reports(
    status: Annotated[str | None, typer.Option(help="open or resolved.")] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Reports of improper access, for the DPO."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        rows = oversight.list_reports(session=session, keyring=ctx.keyring(session), status=status)
    if json_output:
        print_json(rows)
        return
    table = Table(
        "id", "at", "reporter", "status", "categories", "description", title="Access reports"
    )
    for r in rows:
        table.add_row(
            str(r["id"]),
            f"{r['at']:%Y-%m-%d %H:%M}",
            r["reporter"],
            r["status"],
            ", ".join(r["categories"]) or "-",
            r["description"],
        )
    console.print(table)


@access_app.command("resolve")
def resolve(
    report_id: int,
    resolution: Annotated[str, typer.Option(help="What was done.")],
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Close a report of improper access with what was done."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        flows.resolve(
            session=session,
            policy=ctx.policy,
            keyring=ctx.keyring(session),
            actor=acting_as(session, None),
            report_id=report_id,
            resolution=resolution,
            at=moment(as_of),
        )
    if json_output:
        print_json({"id": report_id, "status": "resolved"})
    else:
        console.print(f"access report {report_id} resolved")


@access_app.command("review")
def review(as_of: AsOfOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Each principal's roles, reach and last use; flags departures with keys and unused grants."""
    at = as_of_datetime(parse_day(as_of, "--as-of"))
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        rows = oversight.review(session=session, policy=ctx.policy, at=at)
    if json_output:
        print_json(rows)
        return
    table = Table("principal", "roles", "purposes", "last use", "flags", title="Access review")
    for r in rows:
        last = f"{r['last_use']:%Y-%m-%d}" if r["last_use"] else "never"
        table.add_row(
            r["name"],
            ", ".join(r["roles"]),
            ", ".join(r["reach"]) or "-",
            last,
            "\n".join(r["flags"]) or "-",
        )
    console.print(table)


@disclosures_app.command("record")
def record(
    authority: Annotated[str, typer.Option(help="The authority the data was communicated to.")],
    legal_basis: Annotated[str, typer.Option(help="The legal provision that entitles it.")],
    subject: Annotated[str, typer.Option(help="External id of the person concerned.")],
    categories: Annotated[str, typer.Option(help="Categories communicated, comma-separated.")],
    reference: Annotated[
        str | None, typer.Option(help="The authority's request reference.")
    ] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record a disclosure to an authority legally entitled to the data."""
    with load_context(db) as ctx, session_scope(ctx.engine) as session:
        disclosure = flows.disclose(
            session=session,
            policy=ctx.policy,
            actor=acting_as(session, None),
            authority=authority,
            legal_basis=legal_basis,
            subject_id=subjects.get(session=session, external_id=subject).id,
            categories=[c.strip() for c in categories.split(",") if c.strip()],
            reference=reference,
            at=moment(as_of),
        )
        result = {
            "id": disclosure.id,
            "authority": disclosure.authority,
            "categories": disclosure.categories,
        }
    if json_output:
        print_json(result)
    else:
        console.print(f"disclosure {result['id']} to {result['authority']} recorded")


@disclosures_app.command("list")
def list_disclosures(db: DbOption = None, json_output: JsonOption = False) -> None:
    """Disclosures to authorities, for the DPO."""
    with load_context(db) as ctx, session_scope(ctx.engine, write=False) as session:
        disclosures = oversight.list_disclosures(session=session)
        named = external_ids(session, (d.subject_id for d in disclosures))
        rows = [
            {
                "id": d.id,
                "at": d.at,
                "authority": d.authority,
                "legal_basis": d.legal_basis,
                "reference": d.reference,
                "external_id": named.get(d.subject_id),
                "categories": d.categories,
                "recorded_by": d.recorded_by,
            }
            for d in disclosures
        ]
    if json_output:
        print_json(rows)
        return
    table = Table("id", "at", "authority", "legal basis", "categories", "by", title="Disclosures")
    for r in rows:
        table.add_row(
            str(r["id"]),
            f"{r['at']:%Y-%m-%d}",
            r["authority"],
            r["legal_basis"],
            ", ".join(r["categories"]),
            r["recorded_by"],
        )
    console.print(table)
