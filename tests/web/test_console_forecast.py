"""The dashboard's retention forecast: a chart and its figures for the roles with oversight,
counted as `tutela retention forecast` counts them; nobody else sees or fetches it."""

import json
import re
import time
from datetime import UTC, datetime, timedelta

from console_support import sign_in, staff
from fastapi.testclient import TestClient

from tutela.api import create_app
from tutela.clock import now, travel
from tutela.db import session_scope
from tutela.subjects import service
from tutela.subjects.validation import validate_record
from tutela.web.forecast_chart import ForecastCache


def _prospect(env, external_id, last_contact):
    record = {
        "external_id": external_id,
        "kind": "prospect",
        "source": "website_contact",
        "identification": {"first_name": "Ana", "last_name": "Roy", "email": "a@example.org"},
        "lifecycle": {"last_contact_at": last_contact},
    }
    with session_scope(env.ctx.engine) as session:
        service.save(
            session=session,
            keyring=env.ctx.keyring(session),
            rules=env.ctx.rules,
            records=[validate_record(record, env.ctx.rules)],
            at=now(),
        )


def test_the_dpo_sees_the_forecast_by_rule_and_marketing_does_not(env, key_for, cli):
    staff(env, key_for, "claire", ["dpo"])
    staff(env, key_for, "mia", ["marketing"])
    _prospect(env, "p-march", "2024-03-10")  # anonymised 36 months later: March 2027
    with travel(datetime(2026, 12, 7, 9, tzinfo=UTC)):
        with TestClient(create_app(env.ctx)) as client:
            sign_in(client, "claire")
            home = client.get("/console?lang=fr").text
            chart = client.get("/console/forecast.svg")
        figures = json.loads(cli("retention", "forecast", "--json").stdout)
    assert "Prévision de conservation" in home and 'src="/console/forecast.svg?lang=fr"' in home
    row = home.split('<th scope="row">prospect_data</th>')[1].split("</tr>")[0]
    assert row.count("<td>") == 12 and "<td>0</td>" * 3 + "<td>1</td>" in row
    assert [f["anonymise"] for f in figures][:4] == [0, 0, 0, 1]  # the CLI counts alike
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
    assert b"prospect_data" in chart.content
    assert re.search(rb'(?:src|href)="(?!#)', chart.content) is None  # nothing from elsewhere
    assert chart.headers["content-security-policy"].startswith("default-src 'none'")
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "mia")
        assert "Retention forecast" not in client.get("/console").text
        assert client.get("/console/forecast.svg").status_code == 403


def test_a_stale_forecast_is_shown_while_it_is_counted_again(env):
    cache = ForecastCache(seconds=1)
    at = datetime(2026, 12, 7, 9, tzinfo=UTC)
    first = cache.get(env.ctx, at)
    assert cache.get(env.ctx, at) is first  # kept
    _prospect(env, "p-march", "2024-03-10")
    time.sleep(1.1)
    assert cache.get(env.ctx, at) is first  # stale, shown while a thread counts again
    deadline = time.monotonic() + 10
    while (again := cache.get(env.ctx, at)) is first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert again.forecast.by_rule()["prospect_data"][3] == 1
    next_month = at + timedelta(days=25)  # another day: shown until counted again from it
    assert cache.get(env.ctx, next_month) is again
    deadline = time.monotonic() + 10
    while (later := cache.get(env.ctx, next_month)) is again and time.monotonic() < deadline:
        time.sleep(0.05)
    assert later.forecast.months[0] == "2027-01" and later.at == next_month
