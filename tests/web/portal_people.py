"""A person the portal tests make their requests as."""

import json


def import_one(cli, tmp_path, external_id, email):
    record = {
        "external_id": external_id,
        "kind": "client",
        "source": "registration_form",
        "identification": {"first_name": "Ana", "last_name": "Roy", "email": email},
        "lifecycle": {"subscription_started_at": "2026-01-01"},
    }
    path = tmp_path / f"{external_id}.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
