"""Privacy notices (GDPR Art. 12-14) and forms, derived from the policy, in English and
French: every item the articles require, for each kind of person."""

import re
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from tutela.api import create_app
from tutela.policy import load_policy, parse_policy
from tutela.register import render
from tutela.register.privacy_notice import notice

BUNDLED = Path(__file__).parents[2] / "src/tutela/policy/default.yaml"
CASES = [(lang, kind) for lang in ("en", "fr") for kind in ("client", "prospect")]


@pytest.mark.parametrize(("lang", "kind"), CASES)
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_every_art13_and_art14_item_is_in_the_notice(lang, kind, fmt):
    policy = load_policy()
    page = render.render_notice(notice(policy, lang, kind), fmt)
    text = re.sub(r"\s+", " ", page.replace("&#39;", "'").replace("\\*", "*"))
    t = lambda key, english: policy.text(lang, key, english)  # noqa: E731
    c, dpo, authority = policy.controller, policy.dpo, policy.supervisory_authority
    # 13(1)(a)-(b): the controller and the DPO, with their contact details.
    assert c.address in text and c.email in text
    assert dpo.name in text and dpo.email in text and dpo.phone in text
    purposes = [p for p in policy.purposes if kind in p.subject_kinds]
    for p in purposes:
        # 13(1)(c)-(d): each purpose, its legal basis, the legitimate interest pursued.
        assert t(f"purposes.{p.id}.name", p.name) in text
        if p.legitimate_interest:
            interest = t(f"purposes.{p.id}.legitimate_interest", p.legitimate_interest)
            assert interest.rstrip(".") in text
        # 13(2)(c): how each consent is withdrawn.
        if p.withdrawal:
            assert t(f"purposes.{p.id}.withdrawal", p.withdrawal).rstrip(".") in text
    for r in policy.recipients:  # 13(1)(e): the recipients of the purposes
        if {p.id for p in purposes} & set(policy.reach([r.id])):
            assert t(f"recipients.{r.id}.name", r.name) in text
    # 13(1)(f): no transfer, said so.
    assert {"en": "does not leave the European Economic Area", "fr": "ne quittent pas"}[
        lang
    ] in text
    # 13(2)(a) and 14(2)(a): how long each category is kept, in words.
    kept = {"en": "3 years after", "fr": "3 ans après"}[lang]
    assert kept in text
    # 13(2)(b): every right, with where to write and the proof of identity asked.
    for right in policy.rights:
        assert t(f"rights.{right.id}.name", right.name) in text
    proof = t("rights_requests.identity_proof", policy.rights_requests.identity_proof)
    assert proof.lower().rstrip(".") in text
    # 13(2)(d): the complaint to the CNIL, with its address.
    assert authority.address in text and authority.complaint_service in text
    # 13(2)(e): the forms, their mandatory fields and what leaving one empty means.
    for form in policy.forms:
        assert t(f"forms.{form.id}.consequence_if_missing", form.consequence_if_missing) in text
    assert "*" in text
    # 13(2)(f): profiling and automated decisions.
    assert t("purposes.profiling.name", "Profiling to find commercial prospects") in text
    # 14(1)(d), 14(2)(f), 14(3): categories, sources not the person, when the person is told.
    for category in {x for p in purposes for x in p.categories}:
        spec = policy.category(category)
        assert t(f"categories.{category}.name", spec.name) in text
    for source in ("market_research", "purchased_database"):
        spec = policy.source(source)
        assert t(f"sources.{source}.name", spec.name) in text
    if kind == "prospect":
        kind_spec = policy.subject_kind("prospect")
        assert t("subject_kinds.prospect.told_when", kind_spec.told_when) in text
    assert policy.version in text


def test_the_french_notice_is_french_prose():
    policy = load_policy()
    page = render.render_notice(notice(policy, "fr", "prospect"), "md")
    assert "Vos droits" in page and "Comment nous traitons vos données personnelles" in page
    names = [(f"purposes.{p.id}.name", p.name) for p in policy.purposes]
    names += [(f"rights.{r.id}.name", r.name) for r in policy.rights]
    names += [(f"categories.{c.id}.name", c.name) for c in policy.categories]
    english = [name for key, name in names if policy.text("fr", key, name) != name]
    assert english and [name for name in english if name in page] == []


def test_a_new_purpose_is_in_the_next_notice():
    data = yaml.safe_load(BUNDLED.read_text())
    data["purposes"].append(
        {
            "id": "webinars",
            "name": "Invitations to our webinars",
            "legal_basis": "consent",
            "withdrawal": "The link in every invitation.",
            "categories": ["identification"],
            "subject_kinds": ["prospect"],
        }
    )
    policy = parse_policy(yaml.safe_dump(data, allow_unicode=True))
    page = render.render_notice(notice(policy, "en", "prospect"), "html")
    assert "Invitations to our webinars" in page and "The link in every invitation" in page
    assert "Invitations to our webinars" not in render.render_notice(
        notice(policy, "en", "client"), "html"
    )


def test_notice_and_forms_are_public(env):
    with TestClient(create_app(env.ctx)) as anonymous:
        page = anonymous.get("/notice", params={"lang": "fr", "kind": "prospect"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Vos droits" in page.text
        md = anonymous.get("/notice", params={"kind": "client", "format": "md"})
        assert md.text.startswith("# How we process your personal data")
        assert anonymous.get("/notice", params={"kind": "visitor"}).status_code == 422
        form = anonymous.get("/forms/registration_form", params={"lang": "fr"}).json()
        spec = env.ctx.policy.form("registration_form")
        assert [(f["field"], f["mandatory"]) for f in form["fields"]] == [
            (f.field, f.mandatory) for f in spec.fields
        ]
        assert form["fields"][0]["label"] == "Prénom"
        assert form["consequence_if_missing"].startswith("Sans nom ni adresse e-mail")
        missing = anonymous.get("/forms/nope")
        assert missing.status_code == 404 and "nope" not in missing.text


def test_notice_command(cli, tmp_path):
    out = tmp_path / "notice.md"
    result = cli("notice", "--kind", "client", "--lang", "fr", "--format", "md", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_text().startswith("# Comment nous traitons vos données personnelles")
    assert cli("notice", "--kind", "client", "--format", "pdf").exit_code == 2
    bad = cli("notice", "--kind", "visitor")
    assert bad.exit_code == 1 and "kind" in bad.stderr and "Traceback" not in bad.stderr
