"""A person the portal tests make their requests as."""

import json


def import_one(cli, tmp_path, external_id, email, card_last4=None):
    record = {
        "external_id": external_id,
        "kind": "client",
        "source": "registration_form",
        "identification": {"first_name": "Ana", "last_name": "Roy", "email": email},
        "lifecycle": {"subscription_started_at": "2026-01-01"},
    }
    if card_last4:
        record["payments"] = [
            {"at": "2026-11-01T10:00:00Z", "method": "card", "card_last4": card_last4}
        ]
    path = tmp_path / f"{external_id}.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
