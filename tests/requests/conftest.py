"""People and requests the rights-request tests share, made through the CLI as a DPO would."""

import json

import pytest


def import_people(cli, tmp_path, *records) -> None:
    path = tmp_path / "people.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = cli("subjects", "import", str(path))
    assert result.exit_code == 0, result.stderr


def open_verified(cli, type_, external_id, *options) -> str:
    """A request received by post, its requester's ID checked by staff."""
    opened = cli(
        "requests", "open", "--type", type_, "--external-id", external_id,
        "--channel", "post", "--json", *options,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    request_id = json.loads(opened.stdout)["id"]
    verified = cli("requests", "verify", request_id, "--id-checked-by", "Claire")
    assert verified.exit_code == 0, verified.stderr
    return request_id


def verified_by_code(cli, inbox, type_, email="ana@example.org") -> str:
    """A request made online: the code e-mailed to the address on file, then typed back."""
    opened = cli(
        "requests", "open", "--type", type_, "--email", email, "--channel", "email", "--json"
    )
    request_id = json.loads(opened.stdout)["id"]
    cli("outbox", "send")
    code = inbox.code_for(email, request_id)
    assert cli("requests", "verify", request_id, "--code", code).exit_code == 0
    return request_id


def process(cli, request_id, *options) -> dict:
    result = cli("requests", "process", request_id, "--json", *options)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def items(answer) -> dict:
    """The answer's decision, category by category."""
    return {item["category"]: item for item in answer["items"]}


def client_record(external_id="c-1", **lifecycle) -> dict:
    """A client with data in every category, subscribed since 2024 unless told otherwise."""
    return {
        "external_id": external_id,
        "kind": "client",
        "source": "registration_form",
        "identification": {"first_name": "Léa", "last_name": "Martin", "email": "lea@example.org"},
        "lifecycle": {"subscription_started_at": "2024-01-01", **lifecycle},
        "contract": {"plan": "wimi_teamwork", "contract_reference": "C-1"},
        "enriched": {"segment": "smb"},
        "connections": [{"at": "2026-01-01T10:00:00Z", "ip": "198.51.100.3"}],
        "payments": [
            {"at": "2026-01-02T10:00:00Z", "method": "card", "card_last4": "4242"},
            {"at": "2026-03-02T10:00:00Z", "method": "card", "card_last4": "4242"},
        ],
    }


@pytest.fixture
def ana(env, cli, example, tmp_path, inbox):
    """The prospect of the foundation issue, imported; the inbox gets what Tutela sends."""
    import_people(cli, tmp_path, example)
    return inbox
