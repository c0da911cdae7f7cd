"""The API's edges: body limit before parsing, the key before the body, errors and logs that
never carry what was sent, a throttle that never locks out a valid key, forwarded addresses
believed from trusted proxies only, HSTS over TLS."""

import gc
import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from tutela.api import create_app
from tutela.settings import get_settings

SECRET = "ana.secret@example.org"


def _app(env, monkeypatch, **settings):
    for name, value in settings.items():
        monkeypatch.setenv(f"TUTELA_{name.upper()}", value)
    get_settings.cache_clear()
    env.ctx.settings = get_settings()
    return create_app(env.ctx)


@pytest.fixture
def client(env):
    with TestClient(create_app(env.ctx)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {env.admin_key}"
        yield test_client


def test_a_body_over_the_limit_is_refused_before_it_is_read(env, monkeypatch):
    app = _app(env, monkeypatch, max_body_bytes="2048")
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {env.admin_key}"
        big = json.dumps({"external_id": "x" * 4000})
        declared = client.post(
            "/subjects", content=big, headers={"content-type": "application/json"}
        )
        assert declared.status_code == 413 and "2048" in declared.json()["detail"]

        def chunks():  # no content-length: counted as it arrives
            for _ in range(10):
                yield b" " * 1000

        streamed = client.post(
            "/subjects", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        assert client.get("/healthz").status_code == 200


def test_the_key_is_checked_before_the_body(env):
    with TestClient(create_app(env.ctx)) as anonymous:
        garbage = anonymous.post(
            "/requests", content=b"{not json" * 1000, headers={"content-type": "application/json"}
        )
        assert garbage.status_code == 401  # not 422: the body was never parsed
        for _ in range(12):
            last = anonymous.post("/requests", content=b"{}", headers={"Authorization": "Bearer x"})
        assert last.status_code == 429 and int(last.headers["retry-after"]) > 0


def test_a_valid_key_is_never_locked_out(env, client):
    for _ in range(15):
        client.get("/subjects", headers={"Authorization": "Bearer wrong"})
    assert client.get("/subjects", headers={"Authorization": "Bearer wrong"}).status_code == 429
    assert client.get("/subjects").status_code == 200  # the same address, a valid key


def test_forwarded_addresses_count_only_from_trusted_proxies(env, monkeypatch):
    def failures_until_429(app) -> bool:
        with TestClient(app) as client:
            codes = [
                client.get(
                    "/subjects",
                    headers={"Authorization": "Bearer wrong", "X-Forwarded-For": f"198.51.100.{i}"},
                ).status_code
                for i in range(15)
            ]
        return 429 in codes

    assert failures_until_429(create_app(env.ctx))  # a rotating header from anyone: ignored
    trusted = _app(env, monkeypatch, trusted_proxies='["testclient"]')
    assert not failures_until_429(trusted)  # from the proxy: each address its own client


def test_validation_errors_name_the_field_and_rule_never_the_value(client, example, caplog):
    example["identification"]["email"] = SECRET
    example["kind"] = SECRET
    with caplog.at_level(logging.DEBUG):
        refused = client.post("/subjects", json=example)
    assert refused.status_code == 422
    assert SECRET not in refused.text and SECRET not in caplog.text
    (error,) = [e for e in refused.json()["detail"] if e["loc"][-1] == "kind"]
    assert error["msg"] and set(error) == {"loc", "msg", "type"}


def test_an_unexpected_error_answers_500_and_logs_only_its_place(client, monkeypatch, caplog):
    def broken(**_kw):
        raise ValueError(f"cannot handle {SECRET}")

    monkeypatch.setattr("tutela.subjects.router.read_for_purpose", broken)
    with caplog.at_level(logging.DEBUG):
        answer = client.get("/subjects/crm-42?purpose=support")
    assert answer.status_code == 500 and SECRET not in answer.text
    assert SECRET not in caplog.text and "ValueError" in caplog.text


def test_hsts_over_tls_only(env):
    with TestClient(create_app(env.ctx), base_url="https://testserver") as tls:
        assert "max-age=" in tls.get("/healthz").headers["strict-transport-security"]
    with TestClient(create_app(env.ctx)) as plain:
        assert "strict-transport-security" not in plain.get("/healthz").headers


def test_the_documentation_loads_nothing_from_another_host(env):
    with TestClient(create_app(env.ctx)) as anonymous:
        page = anonymous.get("/docs")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        loaded = re.findall(r"""(?:src|href)=["']([^"']+)|url: ?'([^']+)'""", page.text)
        urls = [a or b for a, b in loaded]
        assert len(urls) >= 3 and not re.search(r"https?://", page.text)
        for url in urls:
            assert url.startswith("/") and anonymous.get(url).status_code == 200, url
        assert '"validatorUrl": null' in page.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the process, not the engine
def test_a_serving_process_keeps_what_it_built_out_of_full_collections(env):
    """What the app built at start lives as long as the process: the collector's full passes,
    which would walk all of it every few thousand requests, leave it aside while serving."""
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(env.ctx)) as client:
        frozen = gc.get_freeze_count()
        assert client.get("/healthz").status_code == 200
    assert frozen > 1000
    assert gc.get_freeze_count() == 0  # given back to the collector once it stops
