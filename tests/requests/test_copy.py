"""The access copy is accurate: purposes that apply to this person now, sources as they are,
recipients who actually received the data, the others listed as such."""

import json

from conftest import import_people, open_verified, process


def copy_of(cli, tmp_path, external_id) -> dict:
    request_id = open_verified(cli, "access", external_id)
    process(cli, request_id)
    out = tmp_path / f"{request_id}.json"
    assert (
        cli("requests", "export", request_id, "--format", "json", "--out", str(out)).exit_code == 0
    )
    return json.loads(out.read_text())["copy"]


def prospect(external_id="p-1", **extra) -> dict:
    return {
        "external_id": external_id,
        "kind": "prospect",
        "source": "website_contact",
        "identification": {"last_name": "Roy", "email": f"{external_id}@example.org"},
        "lifecycle": {"last_contact_at": "2026-10-01"},
        **extra,
    }


def purposes(copy) -> set[str]:
    return {p["id"] for p in copy["purposes"]}


def test_consent_purposes_are_listed_only_with_an_active_consent(env, cli, tmp_path):
    import_people(cli, tmp_path, prospect(enriched={"segment": "smb"}))
    without = purposes(copy_of(cli, tmp_path, "p-1"))
    assert {"newsletter", "profiling", "audience_measurement"}.isdisjoint(without)
    assert {"contact_assistance", "relationship_management"} <= without
    cli("consents", "give", "p-1", "--purpose", "profiling")
    assert "profiling" in purposes(copy_of(cli, tmp_path, "p-1"))
    cli("consents", "object", "p-1", "--scope", "prospecting")
    objected = purposes(copy_of(cli, tmp_path, "p-1"))
    assert {"profiling", "market_research", "relationship_management"}.isdisjoint(objected)
    assert "contact_assistance" in objected


def test_sources_say_what_the_person_gave_and_what_came_from_elsewhere(env, cli, tmp_path):
    client = {
        "external_id": "c-1",
        "kind": "client",
        "source": "registration_form",
        "identification": {"first_name": "Léa", "last_name": "Martin", "email": "lea@example.org"},
        "contract": {"plan": "wimi_teamwork"},
        "lifecycle": {"subscription_started_at": "2024-01-01"},
    }
    import_people(cli, tmp_path, client)
    bought = {
        "external_id": "c-1",
        "kind": "client",
        "source": "purchased_database",
        "enriched": {"segment": "enterprise"},
    }
    import_people(cli, tmp_path, bought)
    sources = copy_of(cli, tmp_path, "c-1")["sources"]
    assert set(sources["given_by_you"]["identification"]) == {"first_name", "last_name", "email"}
    assert sources["recorded_by_us"] == [
        {"during": "Registration form", "categories": ["contract"]}
    ]
    assert sources["other_sources"] == [
        {"source": "Purchased customer database", "categories": ["enriched"]}
    ]
    assert "Registration form" not in json.dumps(sources["other_sources"])


def test_recipients_are_those_who_received_the_data(env, cli, tmp_path):
    import_people(cli, tmp_path, prospect())
    cli("principals", "add", "pat", "--role", "partners")
    assert (
        cli(
            "subjects", "show", "p-1", "--as", "pat", "--purpose", "relationship_management"
        ).exit_code
        == 0
    )
    cli("disclosures", "record", "--authority", "DGFiP", "--legal-basis", "LPF L81",
        "--subject", "p-1", "--categories", "identification")  # fmt: skip
    recipients = copy_of(cli, tmp_path, "p-1")["recipients"]
    received = {r["name"]: r for r in recipients["received"]}
    assert received["Partners and affiliates of the group"]["categories"] == ["identification"]
    assert received["DGFiP"]["kind"] == "authority"
    assert received["French data-centre host"]["kind"] == "subprocessor"
    may = {r["name"] for r in recipients["may_receive"]}
    assert "Marketing" in may and "Partners and affiliates of the group" not in may
    assert "pat" not in json.dumps(recipients)  # services, never staff names
