"""Text columns and their validation agree on both engines: every input is bounded in the
OpenAPI document, the longest value each field allows is stored (or refused by the policy,
never a server error), and no column is shorter than what reaches it."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tutela.api import create_app
from tutela.db import session_scope
from tutela.requests.models import RightsRequest

BOUNDED_FORMATS = {"date", "date-time", "uuid"}


def _inputs(document):
    """(operation, where, schema) of every string and integer a caller sends."""
    components = document["components"]["schemas"]

    def walk(schema, where):
        if "$ref" in schema:
            yield from walk(components[schema["$ref"].rsplit("/", 1)[-1]], where)
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, ()):
                yield from walk(sub, where)
        if schema.get("type") in ("string", "integer"):
            yield where, schema
        for name, sub in schema.get("properties", {}).items():
            yield from walk(sub, f"{where}.{name}")
        if "items" in schema:
            yield from walk(schema["items"], f"{where}[]")
        if isinstance(schema.get("additionalProperties"), dict):
            yield from walk(schema["additionalProperties"], f"{where}{{}}")
        if isinstance(schema.get("propertyNames"), dict):
            yield from walk({"type": "string", **schema["propertyNames"]}, f"{where}{{key}}")

    for path, item in document["paths"].items():
        for method, operation in item.items():
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", ()):
                yield from ((name, w, s) for w, s in walk(parameter["schema"], parameter["name"]))
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            if body:
                yield from ((name, w, s) for w, s in walk(body, "body"))


def _bounded(schema) -> bool:
    if schema["type"] == "integer":
        return "maximum" in schema or "exclusiveMaximum" in schema or "enum" in schema
    return (
        "maxLength" in schema
        or "enum" in schema
        or "const" in schema
        or schema.get("format") in BOUNDED_FORMATS
    )


def test_every_input_string_and_integer_is_bounded(env):
    with TestClient(create_app(env.ctx)) as client:
        document = client.get("/openapi.json").json()
    unbounded = [f"{op} {where}" for op, where, schema in _inputs(document) if not _bounded(schema)]
    assert unbounded == []


def _longest_email(length: int) -> str:
    """An address of `length` characters within RFC 5321's limits (64 before the @, labels
    of 63)."""
    domain = f"{'b' * 63}.{'c' * 63}."
    last = length - 65 - len(domain) - len(".org")
    return f"{'a' * 64}@{domain}{'d' * last}.org"


@pytest.fixture
def client(env, example):
    with TestClient(create_app(env.ctx), raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {env.admin_key}"
        assert test_client.post("/subjects", json=example).status_code == 201
        yield test_client


def test_the_longest_value_of_every_body_field_is_stored(env, client, example, cli):
    stored = []

    def post(path, body, expected=(200, 201)):
        answer = client.post(path, json=body)
        assert answer.status_code in expected, (path, answer.status_code, answer.text[:300])
        stored.append(path)
        return answer

    for i, field in enumerate(("external_id", "kind", "source", "form")):
        record = {**example, "external_id": f"long-{i}"}
        if field == "external_id":
            record["external_id"] = "x" * 128
        else:
            record[field] = "k" * 64  # the longest the schema takes; the policy knows none
        post("/subjects", record, expected=(201, 422) if field != "external_id" else (201,))
    record = {**example, "external_id": "long-consent"}
    record["consents"] = [{**example["consents"][0], "channel": "c" * 64}]
    post("/subjects", record)
    put = client.put(f"/subjects/{'y' * 128}", json={**example, "external_id": "y" * 128})
    assert put.status_code == 201

    post(
        "/access-reports",
        {"description": "d" * 5000, "subject_external_id": "x" * 128, "categories": ["c" * 64]},
        expected=(201, 422),
    )
    post("/access-reports", {"description": "d" * 5000, "subject_external_id": "crm-42"})

    post("/requests", {"type": "access", "external_id": "x" * 128, "channel": "post"})
    post("/requests", {"type": "access", "email": _longest_email(254), "channel": "post"})
    post(
        "/requests",
        {
            "type": "rectification",
            "external_id": "crm-42",
            "channel": "post",
            "changes": {"identification.first_name": "N" * 1000},
        },
        expected=(201, 422),
    )
    post(
        "/requests",
        {
            "type": "post_mortem",
            "external_id": "crm-42",
            "channel": "post",
            "directive": "communicate",
            "designate": _longest_email(254),
        },
    )
    for _ in range(80):  # the repeated-requests flag stays within its column however many
        post("/requests", {"type": "confirmation", "external_id": "crm-42", "channel": "post"})
    with session_scope(env.ctx.engine, write=False) as session:
        flags = session.scalars(select(RightsRequest.flag).where(RightsRequest.flag.is_not(None)))
        assert max(len(flag) for flag in flags) <= RightsRequest.__table__.c.flag.type.length

    open_id = json.loads(
        cli("requests", "open", "--type", "access", "--external-id", "crm-42", "--json").stdout
    )["id"]
    post(f"/requests/{open_id}/extension", {"months": 2, "reason": "r" * 1000})
    post(f"/requests/{open_id}/refusal", {"reason": "r" * 1000})
    restricted = json.loads(
        cli("requests", "open", "--type", "restriction", "--external-id", "crm-42", "--json").stdout
    )["id"]
    assert cli("requests", "verify", restricted, "--id-checked-by", "Claire").exit_code == 0
    assert cli("requests", "process", restricted).exit_code == 0
    post(
        "/subjects/crm-42/restriction-lifting",
        {"reason": "l" * 200, "told_by_letter": True},
    )
    assert len(stored) > 90


def test_the_cli_refuses_by_name_what_its_column_cannot_hold(env, cli, example, tmp_path):
    path = tmp_path / "ana.jsonl"
    path.write_text(json.dumps(example) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
    opened = json.loads(
        cli("requests", "open", "--type", "access", "--external-id", "crm-42", "--json").stdout
    )
    checked = cli("requests", "verify", opened["id"], "--id-checked-by", "C" * 500)
    assert checked.exit_code == 1 and "verified_by: at most 128 characters" in checked.stderr
