"""A breach's steps on both engines: a leaked key scoped exactly, scored high, notified with
every Art. 33(3) item, and each person concerned (nobody else) told in their language; a
stolen encrypted copy that needs no message, with why; a late notification's reasons; the
register of every breach."""

import email
import json
from datetime import UTC, datetime, timedelta

import pytest
from breach_people import import_people, open_breach, person, read_as

from tutela.access.gate import Actor
from tutela.clock import now, travel

LEAK = ("breaches", "scope")


@pytest.fixture
def the_next_day():
    """The day after the breaches these tests open: within their 72 hours, whatever today is."""
    with travel(datetime(2026, 12, 4, 12, tzinfo=UTC)):
        yield


def _client(external_id, country="FR", language="fr-FR", email_address=True):
    record = person(external_id, "client")
    record["identification"]["country"] = country
    if not email_address:
        del record["identification"]["email"]
    record["payments"] = [{"at": "2026-11-01T10:00:00Z", "method": "card", "card_last4": "4242"}]
    record["connections"] = [
        {"at": "2026-11-02T08:00:00Z", "ip": "203.0.113.7", "browser_language": "en-GB"},
        {"at": "2026-11-20T08:00:00Z", "ip": "203.0.113.8", "browser_language": language},
    ]
    return record


def _json(cli, *args):
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _bodies(inbox):
    """Each delivered message: its recipients and its text."""
    out = []
    for message in inbox.messages:
        parsed = email.message_from_bytes(message.content)
        part = next(p for p in parsed.walk() if p.get_content_type() == "text/plain")
        out.append((tuple(message.rcpt_tos), part.get_payload(decode=True).decode()))
    return out


def test_a_leaked_key_is_scoped_scored_notified_and_its_people_told(
    env, cli, tmp_path, inbox, the_next_day
):
    import_people(cli, tmp_path, _client("c-fr"), _client("c-de", "DE", "de-DE"),
            _client("c-en", "FR", "en-US"), _client("c-other"), person("p-1"))  # fmt: skip
    billing = Actor("bill", ("administration",))
    at = lambda h: datetime(2026, 12, 3, h, tzinfo=UTC)  # noqa: E731
    for n, who in enumerate(("c-fr", "c-de", "c-en")):
        read_as(env, billing, who, "accounting_billing", at(10 + n))
    read_as(env, billing, "c-other", "accounting_billing", at(16))  # after the leak was closed
    breach = open_breach(cli, "2026-12-03T15:30+01:00")["id"]
    scoped = _json(cli, *LEAK, breach, "--principal", "bill", "--from", "2026-12-03T09:00Z",
                   "--until", "2026-12-03T14:00Z")  # fmt: skip
    assert scoped["people"] == 3
    assert scoped["by_category"]["banking"] == {"people": 3, "records": 3}

    assessed = _json(cli, "breaches", "assess", breach, "--measures", "Key revoked; paste removed")
    # Banking data (context 3) with names (identification 1), seen by anyone (+0.5).
    assert (assessed["severity"], assessed["level"]) == (3.5, "high")
    assert assessed["context_from"] == "banking" and assessed["assumed"] == ["confidentiality"]
    assert assessed["notify_authority"] and "Art. 33(1)" in assessed["authority_reason"]
    assert assessed["tell_people"] and "Art. 34(1)" in assessed["people_reason"]

    draft = json.loads(cli("breaches", "notify", breach, "--format", "json", "--lang", "fr").stdout)
    assert draft["phase"] == 1 and draft["natures"] == ["confidentialité"]
    assert {c["id"]: (c["people"], c["records"]) for c in draft["categories"]} == {
        "banking": (3, 3), "identification": (3, 12)}  # fmt: skip
    assert all(c["consequences"] for c in draft["categories"])  # Art. 33(3)(c)
    assert draft["dpo"]["email"] == env.ctx.policy.dpo.email  # Art. 33(3)(b)
    assert draft["measures"] == "Key revoked; paste removed"  # Art. 33(3)(d)
    assert draft["people"] == 3 and draft["records"] == 15  # Art. 33(3)(a)
    countries = {a["country"]: a for a in draft["authorities"]}
    assert countries["FR"]["lead"] and countries["FR"]["people"] == 2
    assert "Datenschutz" in countries["DE"]["authority"] and countries["DE"]["people"] == 1
    html = cli("breaches", "notify", breach, "--lang", "fr").stdout
    assert "art. 33.3.d" in html and "Key revoked" in html
    sent = cli("breaches", "notify", breach, "--submitted", "--reference", "CNIL-77")
    assert sent.exit_code == 0, sent.stderr

    told = _json(cli, "breaches", "communicate", breach)
    assert (told["how"], told["queued"], told["unreachable"]) == ("individual", 3, 0)
    assert _json(cli, "worker", "--once")["outbox"]["failed"] == 0
    dpo = env.ctx.policy.dpo.email  # who also gets the worker's daily audit checkpoint
    bodies = {to: text for to, text in _bodies(inbox) if to != (dpo,)}
    assert sorted(to for (to,) in bodies) == ["c-de@example.org", "c-en@example.org",
                                             "c-fr@example.org"]  # fmt: skip
    french, english = bodies[("c-fr@example.org",)], bodies[("c-en@example.org",)]
    assert "Ce que vous pouvez faire" in french and "What you can do" not in french
    assert "What you can do" in english and "Données bancaires" not in english
    assert "bank statements" in english and "Key revoked" in english
    both = bodies[("c-de@example.org",)]  # German is not a language of the policy: both
    assert "What you can do" in both and "Ce que vous pouvez faire" in both

    shown = _json(cli, "breaches", "show", breach)
    assert shown["status"] == "people_told" and shown["messages"] == {"sent": 3}
    assert shown["notifications"][0]["reference"] == "CNIL-77"
    assert cli("breaches", "close", breach).exit_code == 0
    actions = [e["action"] for e in _json(cli, "audit", "show")]
    for step in ("breach_assess", "breach_countries", "breach_notify", "inform", "breach_close"):
        assert step in actions
    delivered = [e for e in _json(cli, "audit", "show") if e["action"] == "deliver_message"]
    assert len(delivered) == 3 and all(e["outcome"] == "done" for e in delivered)
    assert not any("@" in json.dumps(e) for e in delivered)  # ids, never the address


def test_a_stolen_encrypted_copy_needs_no_message_and_says_why(env, cli, tmp_path):
    import_people(cli, tmp_path, _client("c-1"), _client("c-2"), person("p-1"))
    breach = open_breach(cli, "2026-12-03T10:00+01:00", "--encrypted")["id"]
    assert cli(*LEAK, breach, "--category", "banking").exit_code == 0
    assessed = _json(cli, "breaches", "assess", breach, "--recipients", "unknown_recipients")
    assert assessed["identification"] == "negligible"  # ciphertexts identify nobody
    assert not assessed["tell_people"] and "Art. 34(3)(a)" in assessed["people_reason"]
    assert not assessed["notify_authority"] and "unintelligible" in assessed["authority_reason"]
    refused = cli("breaches", "communicate", breach)
    assert refused.exit_code == 1 and "34(3)(a)" in refused.stderr
    register = cli("breaches", "export", "--format", "csv", "--lang", "fr").stdout
    assert breach in register and "art. 34.3.a" in register and "inintelligibles" in register
    assert cli("breaches", "close", breach).exit_code == 0


def test_readable_and_encrypted_leaks_of_one_breach_are_told_apart(env, cli, tmp_path):
    import_people(cli, tmp_path, _client("c-1"), _client("c-2"))
    billing = Actor("bill", ("administration",))
    read_as(env, billing, "c-1", "accounting_billing", datetime(2026, 12, 3, 10, tzinfo=UTC))
    breach = open_breach(cli, "2026-12-03T15:00+01:00")["id"]
    cli(*LEAK, breach, "--principal", "bill", "--from", "2026-12-03T09:00Z",
        "--until", "2026-12-03T11:00Z")  # fmt: skip
    assert cli(*LEAK, breach, "--category", "banking", "--encrypted").exit_code == 0
    assessed = _json(cli, "breaches", "assess", breach)
    assert (assessed["people"], assessed["people_readable"]) == (2, 1)
    assert assessed["tell_people"] and "1 whose data leaked only encrypted" in assessed[
        "people_reason"]  # fmt: skip
    told = _json(cli, "breaches", "communicate", breach)
    assert (told["queued"], told["spared_encrypted"]) == (1, 1)
    public = _json(cli, "breaches", "communicate", breach, "--public")
    assert public["how"] == "public" and "RGPD art. 34.3.c" in public["text"]


def test_a_late_notification_gives_its_reasons_and_follow_ups_are_phased(env, cli, tmp_path):
    import_people(cli, tmp_path, _client("c-1"))
    aware = (now() - timedelta(hours=80)).astimezone(UTC).isoformat()
    breach = open_breach(cli, aware)["id"]
    assert cli("breaches", "notify", breach, "--submitted").exit_code == 1  # assess first
    cli(*LEAK, breach, "--category", "identification")
    _json(cli, "breaches", "assess", breach, "--malicious")
    late = cli("breaches", "notify", breach, "--submitted")
    assert late.exit_code == 1 and "delay_reason" in late.stderr and "33(1)" in late.stderr
    draft = json.loads(cli("breaches", "notify", breach, "--format", "json").stdout)
    assert draft["late"] and draft["delay_reason"].startswith("REQUIRED")
    reason = "The leak was found in a weekend log review"
    first = cli("breaches", "notify", breach, "--submitted", "--delay-reason", reason)
    assert first.exit_code == 0, first.stderr
    follow = json.loads(cli("breaches", "notify", breach, "--format", "json").stdout)
    assert follow["phase"] == 2 and follow["previous"][0]["phase"] == 1
    assert cli("breaches", "notify", breach, "--submitted").exit_code == 0  # a follow-up
    shown = _json(cli, "breaches", "show", breach)
    assert [n["phase"] for n in shown["notifications"]] == [1, 2]
    assert shown["notifications"][0]["delay_reason"] == reason
    assert shown["status"] == "notified" and shown["hours_left"] is None  # the clock stopped
    assert not shown["overdue"]


def test_a_breach_moves_forward_only_and_closes_once_its_steps_are_done(env, cli, tmp_path):
    import_people(cli, tmp_path, _client("c-1"))
    breach = open_breach(cli, "2026-12-03T10:00+01:00")["id"]
    assert cli("breaches", "assess", breach).exit_code == 1  # nobody scoped yet
    cli(*LEAK, breach, "--category", "identification")
    low = _json(cli, "breaches", "assess", breach, "--recipients", "known_recipients")
    assert (low["severity"], low["level"], low["notify_authority"]) == (1.25, "low", False)
    assert "below medium" in low["authority_reason"]
    wrong = cli("breaches", "assess", breach, "--integrity", "lost")
    assert wrong.exit_code == 1 and "integrity" in wrong.stderr
    high = _json(cli, "breaches", "assess", breach, "--identification", "maximum",
                 "--malicious")  # fmt: skip
    assert (high["severity"], high["level"]) == (2.0, "medium") and high["notify_authority"]
    refused = cli("breaches", "close", breach)
    assert refused.exit_code == 1 and "notified" in refused.stderr
    cli("breaches", "notify", breach, "--submitted", "--delay-reason", "late")
    assert cli("breaches", "close", breach).exit_code == 0
    assert cli("breaches", "assess", breach).exit_code == 1  # closed


def test_the_register_lists_every_breach_in_each_format(env, cli, tmp_path):
    import_people(cli, tmp_path, _client("c-1"))
    quiet = open_breach(cli, "2026-12-01T10:00+01:00")["id"]  # never assessed
    formula = open_breach(cli, "2026-12-02T10:00+01:00")["id"]
    cli(*LEAK, formula, "--category", "identification")
    cli("breaches", "assess", formula, "--recipients", "known_recipients",
        "--measures", "=HYPERLINK(\"http://x\")")  # fmt: skip
    csv_text = cli("breaches", "export", "--format", "csv").stdout
    lines = csv_text.splitlines()
    assert lines[0].startswith("Breach,Status,Became aware,Nature of the breach,Facts,Effects")
    assert quiet in lines[1] and "not assessed yet" in lines[1]
    assert formula in lines[2] and "'=HYPERLINK" in csv_text  # never run as a formula
    assert "unlikely to result in a risk" in lines[2]  # why it was not notified
    cli("breaches", "assess", formula, "--malicious", "--identification", "maximum")
    owed = cli("breaches", "export", "--format", "csv").stdout.splitlines()[2]
    assert "not yet: due by" in owed and "unlikely" not in owed
    html = cli("breaches", "export", "--format", "html", "--lang", "fr").stdout
    assert "Registre des violations" in html and "&#34;http://x&#34;" in html
    pdf = tmp_path / "register.pdf"
    assert cli("breaches", "export", "--format", "pdf", "--out", str(pdf)).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    assert cli("breaches", "export", "--format", "pdf").exit_code == 2  # needs --out


def test_reminders_stop_once_notified_or_assessed_as_no_risk(env, cli, tmp_path, inbox):
    import_people(cli, tmp_path, _client("c-1"))
    soon = (now() - timedelta(hours=60)).astimezone(UTC).isoformat()
    notified, low = open_breach(cli, soon)["id"], open_breach(cli, soon)["id"]
    for breach in (notified, low):
        cli(*LEAK, breach, "--category", "identification")
    cli("breaches", "assess", notified, "--malicious", "--identification", "maximum")
    cli("breaches", "notify", notified, "--submitted")
    cli("breaches", "assess", low, "--recipients", "known_recipients")
    assert _json(cli, "worker", "--once")["outbox"]["failed"] == 0
    assert not [m for m in inbox.messages if b"breach B-" in m.content]


def test_telling_the_people_does_not_stop_the_authoritys_clock(env, cli, tmp_path):
    import_people(cli, tmp_path, _client("c-1"))
    breach = open_breach(cli, (now() - timedelta(hours=80)).astimezone(UTC).isoformat())["id"]
    cli(*LEAK, breach, "--external-ids", _listed(tmp_path, "c-1"))
    assert _json(cli, "breaches", "assess", breach)["notify_authority"]
    assert cli("breaches", "communicate", breach).exit_code == 0
    (listed,) = _json(cli, "breaches", "list")
    assert listed["status"] == "people_told" and listed["overdue"] and listed["hours_left"] < 0
    refused = cli("breaches", "close", breach)
    assert refused.exit_code == 1 and "notified" in refused.stderr


def test_a_scope_grown_after_the_assessment_needs_a_new_one(env, cli, tmp_path):
    import_people(cli, tmp_path, _client("c-1"), _client("c-2"))
    breach = open_breach(cli, "2026-12-03T15:00+01:00", "--encrypted")["id"]
    cli(*LEAK, breach, "--category", "banking")
    assert not _json(cli, "breaches", "assess", breach)["notify_authority"]  # ciphertexts
    read_as(env, Actor("bill", ("administration",)), "c-1", "accounting_billing",
            datetime(2026, 12, 3, 10, tzinfo=UTC))  # fmt: skip
    cli(*LEAK, breach, "--principal", "bill", "--from", "2026-12-03T09:00Z",
        "--until", "2026-12-03T11:00Z")  # fmt: skip
    for step in (("close",), ("communicate",), ("notify", "--submitted")):
        refused = cli("breaches", step[0], breach, *step[1:])
        assert refused.exit_code == 1 and "assess it again" in refused.stderr
    again = _json(cli, "breaches", "assess", breach)
    assert again["notify_authority"] and again["tell_people"] and again["people_readable"] == 1


def test_people_scoped_after_the_messages_are_told_before_closing(env, cli, tmp_path, the_next_day):
    import_people(cli, tmp_path, _client("c-1"), _client("c-2"))
    breach = open_breach(cli, "2026-12-03T15:00+01:00")["id"]
    cli(*LEAK, breach, "--external-ids", _listed(tmp_path, "c-1"))
    _json(cli, "breaches", "assess", breach)
    cli("breaches", "notify", breach, "--submitted")
    assert _json(cli, "breaches", "communicate", breach)["queued"] == 1
    nobody = cli("breaches", "communicate", breach)
    assert nobody.exit_code == 1 and "told already" in nobody.stderr
    cli(*LEAK, breach, "--external-ids", _listed(tmp_path, "c-2"))
    _json(cli, "breaches", "assess", breach)
    refused = cli("breaches", "close", breach)
    assert refused.exit_code == 1 and "1 not told yet" in refused.stderr
    assert _json(cli, "breaches", "communicate", breach)["queued"] == 1  # c-2 only
    assert cli("breaches", "close", breach).exit_code == 0
    events = [e for e in _json(cli, "audit", "show") if e["action"] == "breach_communicate"]
    assert [e["detail"]["queued"] for e in events] == [1, 1]


def test_encryption_spares_nobody_when_data_was_lost_rather_than_seen(env, cli, tmp_path):
    import_people(cli, tmp_path, _client("c-1"))
    opened = cli("breaches", "open", "--aware-at", "2026-12-03T10:00+01:00", "--nature",
                 "availability", "--description", "Ransomware", "--encrypted", "--json")  # fmt: skip
    breach = json.loads(opened.stdout)["id"]
    cli(*LEAK, breach, "--category", "banking")
    assessed = _json(cli, "breaches", "assess", breach, "--availability", "permanent",
                     "--malicious")  # fmt: skip
    # Banking data (3) identifying significantly (0.75), lost for good (+0.5), on purpose (+0.5).
    assert (assessed["severity"], assessed["level"]) == (3.25, "high")
    assert assessed["tell_people"] and assessed["people_readable"] == 1
    given_none = _json(cli, "breaches", "assess", breach, "--availability", "none")
    assert given_none["circumstances"]["availability"] == "none" and not given_none["assumed"]


def _listed(tmp_path, *external_ids):
    path = tmp_path / f"{'-'.join(external_ids)}.txt"
    path.write_text("\n".join(external_ids) + "\n")
    return str(path)


def test_counts_read_as_each_language_writes_them():
    from tutela.breaches.words import number

    assert (number(12000, "en"), number(12000, "fr")) == ("12,000", "12\u202f000")
    assert (number(3.5, "en"), number(3.5, "fr")) == ("3.5", "3,5")
