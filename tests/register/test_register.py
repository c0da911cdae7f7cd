"""The Art. 30(1) register: every field of every activity derived from the policy, in English
and French, as CSV (CNIL model columns), JSON, JSON-LD (DPV), HTML and PDF."""

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from tutela.policy import load_policy, parse_policy
from tutela.register import render
from tutela.register.activities import register

BUNDLED = Path(__file__).parents[2] / "src/tutela/policy/default.yaml"
LANGS = ("en", "fr")


@pytest.fixture
def policy_data() -> dict:
    return yaml.safe_load(BUNDLED.read_text())


def _policy(data: dict):
    return parse_policy(yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize("lang", LANGS)
def test_every_art30_field_is_present_for_every_purpose(lang):
    policy = load_policy()
    reg = register(policy, lang)
    assert reg["controller"]["name"] and reg["controller"]["address"] and reg["controller"]["email"]
    assert reg["dpo"]["name"] == policy.dpo.name and reg["dpo"]["email"] == policy.dpo.email
    assert reg["security_measures"] and all(m["description"] for m in reg["security_measures"])
    assert [a["reference"] for a in reg["activities"]] == policy.purpose_ids
    for activity, purpose in zip(reg["activities"], policy.purposes, strict=True):
        assert activity["name"]  # (b) the purpose
        basis = activity["legal_basis"]
        assert basis["basis"] == purpose.legal_basis and basis["article"].lower().startswith(
            "art. 6"
        )
        if purpose.legal_basis == "legitimate_interests":
            assert basis["legitimate_interest"]
        assert [k["id"] for k in activity["data_subjects"]] == purpose.subject_kinds  # (c)
        assert [c["id"] for c in activity["data_categories"]] == purpose.categories
        for category in activity["data_categories"]:  # (f) each limit in words and months
            for limit in category["erasure"]:
                assert limit["words"] and limit["total_months"] >= 0
        assert activity["recipients"]  # (d) every bundled purpose is granted to someone
        assert activity["transfers"] == []  # (e) none in the bundled policy
        assert isinstance(activity["profiling"], bool)  # (g)
        assert isinstance(activity["automated_decision"], bool)
        assert "dpia" in activity


def test_an_erasure_limit_reads_as_the_policy_says_it():
    reg = {lang: register(load_policy(), lang) for lang in LANGS}
    by_lang = {
        lang: next(a for a in reg[lang]["activities"] if a["reference"] == "market_research")
        for lang in LANGS
    }
    limits = {
        lang: next(c for c in a["data_categories"] if c["id"] == "identification")["erasure"]
        for lang, a in by_lang.items()
    }
    prospect = next(e for e in limits["en"] if e["subject_kinds"] == ["prospect"])
    assert prospect["words"] == (
        "3 years after the last contact made by the prospective client, then anonymised"
    )
    assert (prospect["active_months"], prospect["total_months"]) == (36, 36)
    french = next(e for e in limits["fr"] if e["subject_kinds"] == ["prospect"])
    assert french["words"] == "3 ans après le dernier contact du prospect, puis anonymisation"


def test_limits_follow_the_retention_rules_they_come_from(policy_data):
    rule = next(r for r in policy_data["retention"] if r["id"] == "banking_data")
    rule["active_months"], rule["archive_months"] = 2, 25
    activity = next(
        a
        for a in register(_policy(policy_data), "en")["activities"]
        if a["reference"] == "accounting_billing"
    )
    banking = next(c for c in activity["data_categories"] if c["id"] == "banking")
    limit = next(e for e in banking["erasure"] if e["rule"] == "banking_data")
    assert limit["words"] == (
        "2 months after the last transaction, then kept in the intermediate archive 25 months,"
        " then deleted (unless the person agreed to keep them)"
    )
    assert limit["total_months"] == 27


def test_a_transfer_outside_the_eea_is_named_with_its_safeguard(policy_data):
    crm = next(s for s in policy_data["subprocessors"] if s["id"] == "crm")
    crm.update(outside_eea=True, location="United States", transfer_safeguard="EU SCC 2021/914")
    reg = register(_policy(policy_data), "en")
    activity = next(a for a in reg["activities"] if a["reference"] == "market_research")
    assert activity["transfers"] == [
        {"subprocessor": "crm", "location": "United States", "safeguard": "EU SCC 2021/914"}
    ]
    rows = list(csv.DictReader(io.StringIO(render.render(reg, "csv"))))
    row = next(r for r in rows if r["Reference"] == "market_research")
    assert "EU SCC 2021/914" in row["Transfers outside the EEA"]
    untouched = next(r for r in rows if r["Reference"] == "connection")
    assert untouched["Transfers outside the EEA"].startswith("None")


EN_COLUMNS = [
    "Activity", "Reference", "Created", "Updated", "Controller", "Data protection officer",
    "Representative", "Purpose", "Sub-purposes", "Legal basis",
    "Categories of data and erasure time limits", "Sensitive data", "Categories of people",
    "Recipients", "Transfers outside the EEA", "Security measures",
    "Sources of data not collected from the person", "Subprocessors",
    "Profiling and automated decisions", "Impact assessment (DPIA)",
]  # fmt: skip
FR_COLUMNS = [
    "Activité", "Référence", "Date de création", "Mise à jour", "Responsable du traitement",
    "Délégué à la protection des données", "Représentant", "Finalité principale",
    "Sous-finalités", "Base légale", "Catégories de données et délais d'effacement",
    "Données sensibles", "Catégories de personnes concernées", "Destinataires",
    "Transferts hors de l'EEE", "Mesures de sécurité",
    "Sources des données non collectées auprès de la personne", "Sous-traitants",
    "Profilage et décisions automatisées", "Analyse d'impact (AIPD)",
]  # fmt: skip


@pytest.mark.parametrize(("lang", "columns"), [("en", EN_COLUMNS), ("fr", FR_COLUMNS)])
def test_csv_follows_the_cnil_model_columns_in_order(lang, columns):
    policy = load_policy()
    rows = list(csv.reader(io.StringIO(render.render(register(policy, lang), "csv"))))
    assert rows[0] == columns
    assert len(rows) == 1 + len(policy.purposes)
    assert all(len(row) == len(columns) and all(row) for row in rows[1:])


def test_csv_cells_never_run_as_formulas(policy_data):
    policy_data["purposes"][0]["name"] = '=HYPERLINK("http://x.example","y")'
    rows = list(csv.reader(io.StringIO(render.render(register(_policy(policy_data), "en"), "csv"))))
    assert rows[1][0].startswith("'=")


def test_json_ld_uses_dpv_terms():
    policy = load_policy()
    linked = json.loads(render.render(register(policy, "fr"), "jsonld"))
    assert linked["@context"]["dpv"] == "https://w3id.org/dpv#"
    articles = {
        "consent": "a",
        "contract": "b",
        "legal_obligation": "c",
        "legitimate_interests": "f",
    }
    for node, purpose in zip(linked["@graph"], policy.purposes, strict=True):
        assert node["@type"] == "dpv:Process"
        assert node["dct:title"]["@language"] == "fr"
        assert node["dpv:hasPurpose"]["@type"] == purpose.dpv
        bases = {b["@id"] for b in node["dpv:hasLegalBasis"]}
        assert f"eu-gdpr:A6-1-{articles[purpose.legal_basis]}" in bases
        assert [d["@id"] for d in node["dpv:hasPersonalData"]] == [
            policy.category(c).dpv for c in purpose.categories
        ]
        durations = [s["dpv:hasDuration"]["rdf:value"] for s in node["dpv:hasStorageCondition"]]
        assert all(d.startswith("P") and d.endswith("M") for d in durations)


def test_html_escapes_and_pdf_renders(policy_data):
    policy_data["purposes"][0]["name"] = "<script>alert(1)</script>"
    page = render.render(register(_policy(policy_data), "en"), "html")
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    french = register(load_policy(), "fr")
    page = render.render(french, "html")
    assert 'lang="fr"' in page and "Registre des activités de traitement" in page
    assert render.render(french, "pdf").startswith(b"%PDF")


def test_register_export_command(cli, tmp_path):
    out = tmp_path / "register.csv"
    result = cli("register", "export", "--format", "csv", "--lang", "fr", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_text().splitlines()[0].startswith("Activité,Référence,")
    result = cli("register", "export", "--format", "json")
    assert json.loads(result.stdout)["policy_version"] == load_policy().version
    result = cli("register", "export", "--format", "pdf")
    assert result.exit_code == 2 and "--out" in result.stderr
    result = cli("register", "export", "--format", "xls")
    assert result.exit_code == 1 and "format" in result.stderr
    assert "Traceback" not in result.stderr
