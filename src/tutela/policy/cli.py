"""`tutela policy`: check a policy file, show the one in force. Versions (activate, history,
diff, impact) are `register.policy_cli`'s."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tutela.cli_support import DbOption, JsonOption, console, load_context, print_json
from tutela.policy import lint, parse_policy, policy_digest
from tutela.policy.loader import PolicyError

app = typer.Typer(help="Check and show the data protection policy.", no_args_is_help=True)


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="Policy YAML file to validate.")],
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Validate a policy file: every error at once, each with its key path (exit 1), then
    the warnings where it looks legal but is wrong."""
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise PolicyError(str(file), [f"cannot read the file ({exc.strerror})"]) from None
    policy = parse_policy(text, source=str(file))
    found = lint.warnings(policy)
    if json_output:
        print_json(
            {
                "valid": True,
                "version": policy.version,
                "digest": policy_digest(policy),
                "warnings": [{"path": w.path, "message": w.message} for w in found],
            }
        )
    else:
        console.print(f"[green]valid[/green] {file} (version {policy.version})")
        for warning in found:
            console.print(f"[yellow]warning[/yellow] {warning}", soft_wrap=True)
        if found:
            console.print(f"{len(found)} warning(s)")
    if strict and found:
        raise typer.Exit(1)


@app.command()
def show(db: DbOption = None, json_output: JsonOption = False) -> None:
    """Print the policy in force: the store's latest activated version (the policy file,
    TUTELA_POLICY_FILE or the bundled one, in a store that holds none)."""
    with load_context(db) as ctx:
        policy = ctx.policy
    if json_output:
        print_json(policy.model_dump(mode="json"))
        return
    c = policy.controller
    console.print(
        f"[bold]Policy {policy.version}[/bold] (effective {policy.effective_from}, "
        f"digest {policy_digest(policy)})"
    )
    console.print(f"Controller: {c.name}, {c.address} <{c.email}>")
    console.print(f"DPO: {policy.dpo.name}, {policy.dpo.organisation} <{policy.dpo.email}>")
    authority = policy.supervisory_authority
    console.print(f"Complaints: {authority.complaint_service}, {authority.address}")
    purposes = Table("purpose", "legal basis", "categories", "subjects", title="Purposes (§7)")
    for p in policy.purposes:
        purposes.add_row(p.id, p.legal_basis, ", ".join(p.categories), ", ".join(p.subject_kinds))
    console.print(purposes)
    recipients = Table("recipient", "kind", "purposes", "categories", title="Recipients (§8)")
    for r in policy.recipients:
        recipients.add_row(
            r.id,
            r.kind,
            ", ".join(sorted({p for g in r.grants for p in g.purposes})) or "-",
            ", ".join(sorted({cat for g in r.grants for cat in g.categories})) or "-",
        )
    console.print(recipients)
    retention = Table(
        "rule",
        "categories",
        "subjects",
        "from",
        "active",
        "archive",
        "then",
        title="Retention (§9), in months",
    )
    for rule in policy.retention:
        retention.add_row(
            rule.id,
            ", ".join(rule.categories),
            ", ".join(rule.subject_kinds),
            rule.anchor,
            str(rule.active_months),
            str(rule.archive_months),
            rule.then,
        )
    console.print(retention)
    assumptions = Table(
        "assumption", "value chosen where the seed policy is silent", title="Assumptions"
    )
    for a in policy.assumptions:
        assumptions.add_row(a.id, a.text)
    console.print(assumptions)
