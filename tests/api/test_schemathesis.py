"""Schemathesis against the OpenAPI document, on both engines: no input gives a server error,
and every answer is one the document declares, in its declared shape."""

import json

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tutela.api import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25  # per operation and engine: bounded, so the suite stays short


def test_no_server_error_and_every_answer_as_documented(env, cli, example, tmp_path):
    path = tmp_path / "ana.jsonl"
    path.write_text(json.dumps(example) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0  # some reads find someone
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(env.ctx))
    key = {"Authorization": f"Bearer {env.admin_key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case):
            case.call_and_validate(headers=key, checks=CHECKS)

        answers_as_documented()
