"""The console in a real browser (Playwright driving Debian's Chromium), on both engines:
signing in, the dashboard, a forged form refused, an idle session signed out, no serious or
critical accessibility violation (axe-core) on any page, and a screenshot of each page kept
under `test-artefacts/screenshots/`."""

import json
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from console_support import PASSWORD, chromium_path, live_server, staff
from playwright.sync_api import sync_playwright

from tutela.clock import now, travel

SHOTS = Path(__file__).parents[2] / "test-artefacts" / "screenshots"
SERIOUS = {"serious", "critical"}


@pytest.fixture
def browser_page(env):
    executable = chromium_path()
    with live_server(env) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        page = browser.new_page()
        page.base_url = url
        try:
            yield page
        finally:
            browser.close()


def _visit(page, path):
    page.goto(page.base_url + path)


def _check(page, name):
    """No serious or critical accessibility violation; a screenshot kept."""
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert serious == [], [(v["id"], v["help"]) for v in serious]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def _sign_in(page, name, password=PASSWORD):
    _visit(page, "/console/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_the_dpo_signs_in_sees_the_dashboard_and_signs_out(env, key_for, cli, browser_page):
    page = browser_page
    staff(env, key_for, "claire", ["dpo"])
    cli("breaches", "open", "--aware-at", "2026-12-01T10:00+01:00", "--nature", "integrity",
        "--description", "x")  # fmt: skip
    _visit(page, "/console")
    assert page.url.endswith("/console/login")
    _check(page, "console-login")
    _sign_in(page, "claire", "wrong passphrase!")
    assert page.get_by_role("alert").inner_text() == "Wrong name, password or code."
    _sign_in(page, "claire")
    assert page.url.endswith("/console")
    assert page.get_by_role("heading", name="Breaches").is_visible()
    _check(page, "console-dashboard")
    page.get_by_role("link", name="Audit trail").click()
    assert page.get_by_role("cell", name="sign_in").first.is_visible()
    _check(page, "console-audit")
    page.get_by_role("link", name="Register").click()
    _check(page, "console-register")
    page.get_by_role("link", name="Principals").click()
    _check(page, "console-principals")
    page.get_by_role("link", name="Policy").click()
    _check(page, "console-policy")
    page.get_by_role("link", name="Dashboard").click()
    page.click("a[lang=fr]")
    assert page.get_by_role("heading", name="Tableau de bord").is_visible()
    _check(page, "console-dashboard-fr")
    page.get_by_role("button", name="Se déconnecter").click()
    assert page.url.endswith("/console/login")
    _visit(page, "/console")
    assert page.url.endswith("/console/login")


def test_a_forged_form_and_an_idle_session_are_refused(env, key_for, browser_page):
    page = browser_page
    staff(env, key_for, "claire", ["dpo"])
    _sign_in(page, "claire")
    page.eval_on_selector("form.signout input[name=csrf]", "input => input.value = 'forged'")
    page.get_by_role("button", name="Sign out").click()
    assert "did not come from this site" in page.get_by_role("alert").inner_text()
    _check(page, "console-refused")
    _visit(page, "/console")
    assert page.url.endswith("/console")  # the forged sign-out did nothing
    with travel(now() + timedelta(minutes=env.ctx.settings.console_idle_minutes + 1)):
        _visit(page, "/console")
        assert page.url.endswith("/console/login")


def test_the_dpo_takes_a_breach_through_its_steps(env, key_for, cli, tmp_path, browser_page):
    from portal_people import import_one

    page = browser_page
    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "claire", ["dpo"])
    _sign_in(page, "claire")
    page.get_by_role("link", name="Breaches").click()
    local = ZoneInfo(env.ctx.policy.breaches.time_zone)  # the form's times are the policy's
    page.fill(
        "#aware_at", (now() - timedelta(hours=1)).astimezone(local).strftime("%Y-%m-%dT%H:%M")
    )
    page.check("input[value=confidentiality]")
    page.fill("#description", "A laptop with an export was stolen")
    page.get_by_role("button", name="Record").click()
    assert page.get_by_role("status").inner_text() == "Done."
    _check(page, "console-breach")
    page.fill("#category", "identification")
    page.get_by_role("button", name="Scope").click()
    page.check("input[name=malicious]")
    page.fill("#measures", "Laptop wiped remotely")
    page.get_by_role("button", name="Assess").click()
    assert "medium" in page.get_by_role("heading", name=re.compile("Assessment")).inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Draft in French (HTML)").click()
    draft = download.value.path().read_text()
    assert "Laptop wiped remotely" in draft and "art. 33.3.d" in draft
    page.fill("#reference", "CNIL-42")
    page.get_by_role("button", name="Record as submitted").click()
    page.get_by_role("button", name="Close the breach").click()
    assert "closed" in page.locator("table").first.inner_text()
    _check(page, "console-breach-closed")
    page.get_by_role("link", name="Breaches").click()
    assert page.get_by_role("cell", name="closed").is_visible()
    _check(page, "console-breaches")


def test_a_marketing_principal_is_offered_no_breach_page(env, key_for, browser_page):
    page = browser_page
    staff(env, key_for, "mia", ["marketing"])
    _sign_in(page, "mia")
    assert page.get_by_role("link", name="Breaches").count() == 0
    assert page.get_by_role("link", name="Legal holds").count() == 0
    _visit(page, "/console/breaches")
    assert "roles the policy names" in page.get_by_role("alert").inner_text()


def test_the_gate_holds_in_the_console(env, key_for, cli, tmp_path, browser_page):
    from portal_people import import_one

    page = browser_page
    import_one(cli, tmp_path, "ana", "ana@example.org", card_last4="4242")
    staff(env, key_for, "mia", ["marketing"])
    _sign_in(page, "mia")
    page.get_by_role("link", name="People").click()
    page.fill("#email", "ANA@example.org")  # the blind index finds trivial variants
    page.get_by_role("button", name="Find").click()
    assert page.get_by_role("cell", name="ana", exact=True).is_visible()
    _check(page, "console-people")
    page.select_option("#purpose-1", "relationship_management")
    page.get_by_role("button", name="Read").click()
    assert "Roy" in page.content() and "4242" not in page.content()  # no banking data
    _check(page, "console-person")
    _visit(page, "/console/people/ana?purpose=accounting_billing")
    assert "accounting_billing" in page.get_by_role("alert").inner_text()
    assert "4242" not in page.content()
    assert page.get_by_role("link", name="Rights requests").count() == 0
    events = json.loads(cli("audit", "show", "--json").stdout)
    assert {"find", "read"} <= {e["action"] for e in events if e["principal"] == "mia"}


def test_the_dpo_places_and_lifts_a_hold(env, key_for, cli, tmp_path, browser_page):
    from portal_people import import_one

    page = browser_page
    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "claire", ["dpo"])
    _sign_in(page, "claire")
    page.get_by_role("link", name="Legal holds").click()
    _check(page, "console-holds-empty")
    page.fill("#external_id", "ana")
    page.select_option("#purpose", "debt_disputes")
    page.fill("#reference", "CASE-7")
    page.check("input[name=category][value=banking]")
    page.get_by_role("button", name="Place the hold").click()
    assert "Hold placed" in page.get_by_role("status").inner_text()
    assert page.get_by_role("cell", name="CASE-7").is_visible()
    _check(page, "console-holds")
    page.get_by_role("button", name="Lift the hold").click()
    assert "Hold lifted" in page.get_by_role("status").inner_text()
    assert json.loads(cli("holds", "list", "--json").stdout) == []


def test_staff_compare_versions_and_see_an_impact(env, key_for, cli, tmp_path, browser_page):
    import yaml

    page = browser_page
    bundled = Path(__file__).parents[2] / "src/tutela/policy/default.yaml"
    data = yaml.safe_load(bundled.read_text())
    data["version"] = "2027.1.0"
    next(r for r in data["retention"] if r["id"] == "prospect_data")["active_months"] = 24
    newer = tmp_path / "newer.yaml"
    newer.write_text(yaml.safe_dump(data, sort_keys=False))
    assert cli("policy", "activate", str(newer)).exit_code == 0
    staff(env, key_for, "claire", ["dpo"])
    _sign_in(page, "claire")
    page.get_by_role("link", name="Policy").click()
    assert "active_months: 36 → 24" in page.locator("ul.change").inner_text()
    _check(page, "console-policy-diff")
    data["version"] = "2027.2.0"
    next(r for r in data["retention"] if r["id"] == "technical_data")["active_months"] = 6
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(yaml.safe_dump(data, sort_keys=False))
    page.set_input_files("#file", str(candidate))
    page.fill("#as_of", "2027-09-01")
    page.get_by_role("button", name="Show the impact").click()
    assert page.get_by_role(
        "heading", name="People whose data falls due on 2027-09-01"
    ).is_visible()
    _check(page, "console-policy-impact")
    data["retention"][0]["active_months"] = "lots"
    candidate.write_text(yaml.safe_dump(data, sort_keys=False))
    page.set_input_files("#file", str(candidate))
    page.get_by_role("button", name="Show the impact").click()
    assert "retention[0].active_months" in page.get_by_role("alert").inner_text()
    _check(page, "console-policy-invalid")


def test_the_dpo_verifies_extends_and_answers_a_request(env, key_for, cli, tmp_path, browser_page):
    from portal_people import import_one

    page = browser_page
    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "claire", ["dpo"])
    opened = cli("requests", "open", "--type", "access", "--external-id", "ana",
                 "--channel", "post", "--json")  # fmt: skip
    request_id = json.loads(opened.stdout)["id"]
    cli("requests", "open", "--type", "erasure", "--external-id", "ana", "--channel", "post")
    _sign_in(page, "claire")
    page.get_by_role("link", name="Rights requests").click()
    page.select_option("#type", "access")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_role("cell", name="erasure").count() == 0
    _check(page, "console-requests-filtered")
    page.get_by_role("link", name=request_id).click()
    assert page.get_by_role("button", name="Process the request").count() == 0
    _check(page, "console-request-open")  # the verify, extend and refuse forms
    page.fill("#id_checked_by", "Claire, DPO office")
    page.get_by_role("button", name="Record the identity as verified").click()
    assert page.get_by_role("status").inner_text() == "Identity verified."
    page.select_option("#months", "1")
    page.fill("#extend_reason", "Several systems to search")
    page.get_by_role("button", name="Extend the deadline").click()
    assert "told by e-mail" in page.get_by_role("status").inner_text()
    assert page.get_by_role("cell", name=re.compile("Several systems to search")).is_visible()
    _check(page, "console-request-verified")
    page.get_by_role("button", name="Process the request").click()
    assert page.get_by_role("status").inner_text() == "Processed."
    with page.expect_download() as download:
        page.get_by_role("link", name="The answer as a letter (HTML)").click()
    assert download.value.suggested_filename == f"{request_id}-letter.html"
    assert "Roy" in download.value.path().read_text()
    _check(page, "console-request-answered")
    page.click("a[lang=fr]")
    assert page.get_by_role("heading", name="Historique").is_visible()
    _check(page, "console-request-fr")
