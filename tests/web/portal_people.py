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


def mailed_code(cli, inbox, address):
    """The last code e-mailed to `address`, once the outbox is sent to the local server."""
    assert cli("outbox", "send").exit_code == 0
    return code_in(inbox, address)


def code_in(inbox, address):
    """The last code the local SMTP server received for `address`."""
    import email
    import re

    for message in reversed(inbox.messages):
        if address in message.rcpt_tos:
            parsed = email.message_from_bytes(message.content)
            part = next(p for p in parsed.walk() if p.get_content_type() == "text/plain")
            found = re.search(r"Your code: (\d+)", part.get_payload(decode=True).decode())
            if found:
                return found.group(1)
    raise AssertionError("no code was e-mailed")
