"""People, breaches and reads the breach tests share, made as a DPO and the staff would."""

import json
from contextlib import suppress

from tutela.db import read_connection
from tutela.errors import Denied, Unreadable
from tutela.subjects.flows import read_for_purpose

CASE = "The marketing team's API key was published in a public repository"


def import_people(cli, tmp_path, *records):
    path = tmp_path / "people.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert cli("subjects", "import", str(path)).exit_code == 0


def person(external_id, kind="prospect", **extra):
    record = {
        "external_id": external_id,
        "kind": kind,
        "source": "website_contact" if kind == "prospect" else "registration_form",
        "identification": {
            "first_name": "Ana",
            "last_name": "Roy",
            "email": f"{external_id}@example.org",
        },
        "lifecycle": {"last_contact_at": "2026-10-01"}
        if kind == "prospect"
        else {"subscription_started_at": "2026-01-01"},
    }
    record.update(extra)
    return record


def open_breach(cli, aware_at="2026-12-03T10:00+01:00", *extra):
    result = cli("breaches", "open", "--aware-at", aware_at, "--nature", "confidentiality",
                 "--description", CASE, *extra, "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def read_as(env, actor, external_id, purpose, at):
    # A refused read is audited and discloses nothing.
    with read_connection(env.ctx.engine) as connected, suppress(Denied, Unreadable):
        read_for_purpose(
            session=connected,
            keyring=env.ctx.open_keyring(),
            policy=env.ctx.policy,
            actor=actor,
            external_id=external_id,
            purpose=purpose,
            at=at,
        )
