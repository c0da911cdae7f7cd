"""A person's access request from end to end, in a real browser, on both engines: made on
the portal, the code from a real local SMTP server, verified; the DPO signs in to the
console and processes it; the person downloads their copy. The console's gate too: a
marketing principal cannot reach the requests."""

import re

from axe_playwright_python.sync_playwright import Axe
from console_support import PASSWORD, chromium_path, live_server, staff
from playwright.sync_api import sync_playwright
from portal_people import code_in, import_one
from test_console_browser import SERIOUS, SHOTS


def _check(page, name):
    serious = [v for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS]
    assert serious == [], [(v["id"], v["help"]) for v in serious]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def _sign_in(page, url, name):
    page.goto(url + "/console/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_an_access_request_from_the_portal_to_the_copy(env, cli, tmp_path, key_for, inbox):
    executable = chromium_path()
    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "claire", ["dpo"])
    staff(env, key_for, "mia", ["marketing"])
    with live_server(env) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        person = browser.new_context(accept_downloads=True).new_page()
        person.goto(url + "/portal")
        _check(person, "portal")
        person.select_option("#type", "access")
        person.fill("#email", "ana@example.org")
        person.click("button[type=submit]")
        assert "/portal/requests/" in person.url
        _check(person, "portal-request")
        assert cli("outbox", "send").exit_code == 0
        person.fill("#code", code_in(inbox, "ana@example.org"))
        person.click("button[type=submit]")
        assert person.get_by_role("status").inner_text() == "Thank you: your request is confirmed."

        marketing = browser.new_context().new_page()
        _sign_in(marketing, url, "mia")
        marketing.goto(url + "/console/requests")
        assert "for the roles that handle them" in marketing.get_by_role("alert").inner_text()

        dpo = browser.new_context().new_page()
        _sign_in(dpo, url, "claire")
        dpo.goto(url + "/console/requests")
        _check(dpo, "console-requests")
        dpo.get_by_role("link", name=re.compile(r"[0-9a-f]{32}")).first.click()
        dpo.get_by_role("button", name="Process the request").click()
        assert dpo.get_by_role("status").inner_text() == "Processed."
        assert "done" in dpo.get_by_role("heading", name=re.compile("Decision")).inner_text()
        _check(dpo, "console-request")

        person.reload()
        _check(person, "portal-request-answered")
        with person.expect_download() as download:
            person.get_by_role("link", name="Download your data (JSON)").click()
        copy = download.value.path().read_text()
        assert "ana@example.org" in copy and "Roy" in copy
        browser.close()
    others = [m for m in inbox.messages if "ana@example.org" not in m.rcpt_tos]
    assert all(env.ctx.policy.dpo.email in m.rcpt_tos for m in others)  # nobody else


def test_a_person_manages_their_consents_and_leaves_a_directive(env, cli, tmp_path, inbox):
    executable = chromium_path()
    import_one(cli, tmp_path, "ana", "ana@example.org")
    with live_server(env) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        person = browser.new_context().new_page()
        person.goto(url + "/portal")
        person.get_by_role("link", name="Give or withdraw your consents, or object").click()
        _check(person, "portal-choices-ask")
        person.fill("#email", "ana@example.org")
        person.get_by_role("button", name="Send me a code").click()
        _check(person, "portal-choices-code")
        assert cli("outbox", "send").exit_code == 0
        person.fill("#code", code_in(inbox, "ana@example.org"))
        person.get_by_role("button", name="Confirm").click()
        _check(person, "portal-choices")
        person.get_by_role("button", name="Give Management of the newsletter").click()
        assert person.get_by_role("status").inner_text() == "Your consent is recorded."
        person.get_by_role("button", name="Withdraw Management of the newsletter").click()
        assert person.get_by_role("status").inner_text() == "Your consent is withdrawn."
        person.get_by_role("button", name=re.compile("^Object Prospecting")).click()
        assert person.get_by_role("status").inner_text() == "Your objection is recorded."
        person.goto(url + "/portal/choices?lang=fr")
        _check(person, "portal-choices-fr")
        assert (
            person.get_by_role("heading", level=1).inner_text()
            == "Vos consentements et oppositions"
        )

        person.goto(url + "/portal?lang=en")
        person.select_option("#directive", "erase")
        person.fill("#pm-email", "ana@example.org")
        person.get_by_role("button", name="Leave the directive").click()
        assert "/portal/requests/" in person.url
        assert "Our staff check your identity" in person.content()
        _check(person, "portal-post-mortem")
        browser.close()
