"""The console in a real browser (Playwright driving Debian's Chromium), on both engines:
signing in, the dashboard, a forged form refused, an idle session signed out, no serious or
critical accessibility violation (axe-core) on any page, and a screenshot of each page kept
under `test-artefacts/screenshots/`."""

from datetime import timedelta
from pathlib import Path

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
