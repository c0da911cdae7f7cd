"""Documentation that falls behind the code fails the build: settings, commands, purposes."""

from pathlib import Path

import typer.main

from tutela.cli import app
from tutela.policy import load_policy
from tutela.settings import Settings

ROOT = Path(__file__).parents[1]


def _text(*names: str) -> str:
    return "\n".join((ROOT / name).read_text() for name in names)


def _command_paths(group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield from _command_paths(command, path)
        else:
            yield " ".join(path)


def test_every_setting_is_documented():
    docs = _text("README.md", "docs/operations.md")
    missing = [
        f"TUTELA_{name.upper()}"
        for name in Settings.model_fields
        if f"TUTELA_{name.upper()}" not in docs
    ]
    assert missing == []


def test_every_command_is_documented():
    docs = _text("docs/cli.md")
    commands = list(_command_paths(typer.main.get_command(app)))
    assert len(commands) >= 9
    assert [c for c in commands if f"tutela {c}" not in docs] == []


def test_every_purpose_and_category_of_the_bundled_policy_is_documented():
    docs = _text("docs/import.md")
    policy = load_policy()
    assert [p.id for p in policy.purposes if f"`{p.id}`" not in docs] == []
    assert [c.id for c in policy.categories if f"`{c.id}`" not in docs] == []
    assert [s.id for s in policy.sources if f"`{s.id}`" not in docs] == []


def test_every_policy_key_is_documented():
    from tutela.policy.schema import Policy

    docs = _text("docs/policy.md")
    assert [k for k in Policy.model_fields if f"`{k}`" not in docs] == []


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text().splitlines()[:12]
    assert any(line.strip() == "make run" for line in head)
    assert any(line.strip() == "make test" for line in head)
