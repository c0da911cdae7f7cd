"""The people's portal over HTTP, on both engines: a request made with an e-mail address is
answered in the same words whether the address is known or not; only the browser that made
it follows it; submissions are rate limited; the copy needs a verified, answered request."""

import re

from fastapi.testclient import TestClient
from portal_people import import_one, mailed_code

from tutela.api import create_app

SAME = "If we hold data about this address, we have e-mailed a code to it."


def _csrf(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _submit(client, email, type_="access"):
    form = client.get("/portal")
    data = {"csrf": _csrf(form.text), "type": type_, "email": email}
    return client.post("/portal/requests", data=data)


def test_known_and_unknown_addresses_read_alike(env, cli, tmp_path, inbox):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    with TestClient(create_app(env.ctx)) as client:
        known = _submit(client, "ana@example.org")
        unknown = _submit(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    strip = lambda page: re.sub(r"[0-9a-f]{32}|\d{4}-\d{2}-\d{2}", "", page.text)  # noqa: E731
    assert strip(known) == strip(unknown) and SAME in known.text
    assert known.headers["content-security-policy"].startswith("default-src 'none'")


def test_only_the_browser_that_made_a_request_follows_it(env, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    with TestClient(create_app(env.ctx)) as mine:
        made = _submit(mine, "ana@example.org")
        path = made.url.path
        assert mine.get(path).status_code == 200
        assert mine.get(path + "/copy").status_code == 404  # not answered: nothing given
    with TestClient(create_app(env.ctx)) as other:
        assert other.get(path).status_code == 404
        refused = other.post(path + "/verify", data={"code": "123456", "csrf": "x"})
        assert refused.status_code == 404


def test_a_wrong_code_is_said_so_and_submissions_are_rate_limited(env, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    with TestClient(create_app(env.ctx)) as client:
        made = _submit(client, "ana@example.org")
        page = client.post(made.url.path + "/verify",
                           data={"csrf": _csrf(made.text), "code": "000000"})  # fmt: skip
        assert "This code is wrong or has expired." in page.text
        for _ in range(4):
            _submit(client, "someone@example.org")
        slowed = _submit(client, "someone@example.org")
        assert slowed.status_code == 429 and "Too many" in slowed.text


def test_a_person_gets_the_copy_of_their_own_portal_request_only(env, cli, tmp_path):
    import pytest

    from tutela.clock import now
    from tutela.db import session_scope
    from tutela.errors import Denied
    from tutela.requests import permissions
    from tutela.requests.given import export_copy

    import_one(cli, tmp_path, "ana", "ana@example.org")
    opened = cli("requests", "open", "--type", "access", "--external-id", "ana",
                 "--channel", "post", "--json")  # fmt: skip
    request_id = __import__("json").loads(opened.stdout)["id"]
    with session_scope(env.ctx.engine) as session, pytest.raises(Denied):
        export_copy(session=session, keyring=env.ctx.keyring(session), rules=env.ctx.rules,
                    actor=permissions.requester(request_id), request_id=request_id,
                    fmt="json", at=now())  # fmt: skip


def test_an_address_several_people_hold_reads_as_any_other(env, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "shared@example.org")
    import_one(cli, tmp_path, "bob", "shared@example.org")
    with TestClient(create_app(env.ctx)) as client:
        shared = _submit(client, "shared@example.org")
        bad = _submit(client, "not-an-address@")
    assert shared.status_code == 200 and SAME in shared.text
    assert bad.status_code == 422 and "valid e-mail address" in bad.text


def test_one_address_is_not_flooded_with_codes(env, cli, tmp_path, inbox):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    answers, app = [], create_app(env.ctx)
    for n in range(4):  # from four different browsers
        with TestClient(app, client=(f"198.51.100.{n}", 50000)) as client:
            answers.append(_submit(client, "ANA@example.org").status_code)
    assert answers == [200, 200, 200, 429]


def test_the_answer_letter_is_the_requesters_once_answered(env, cli, tmp_path, inbox):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    with TestClient(create_app(env.ctx)) as client:
        made = _submit(client, "ana@example.org", "confirmation")
        path = made.url.path
        assert client.get(path + "/letter").status_code == 404  # no answer yet
        client.post(path + "/verify",
                    data={"csrf": _csrf(made.text), "code": mailed_code(cli, inbox, "ana@example.org")})  # fmt: skip
        assert cli("requests", "process", path.rsplit("/", 1)[1]).exit_code == 0
        assert "Download our answer (PDF)" in client.get(path).text
        letter = client.get(path + "/letter?format=html")
        assert letter.status_code == 200 and "attachment" in letter.headers["content-disposition"]
        assert "confirmation" in letter.text
        pdf = client.get(path + "/letter?format=pdf")
        assert pdf.content.startswith(b"%PDF")
        assert client.get(path + "/letter?format=json").status_code == 404
    with TestClient(create_app(env.ctx)) as other:
        assert other.get(path + "/letter").status_code == 404  # the grant is the browser's
    trail = __import__("json").loads(cli("audit", "show", "--subject", "ana", "--json").stdout)
    given = [
        e for e in trail if e["action"] == "export" and e["principal"].startswith("requester:")
    ]
    assert len(given) == 2 and "letter of a confirmation answer" in given[0]["reason"]


def _post_mortem(client, email, directive, designate=""):
    data = {"csrf": _csrf(client.get("/portal").text), "email": email,
            "directive": directive, "designate": designate}  # fmt: skip
    return client.post("/portal/post-mortem", data=data)


def test_a_post_mortem_directive_opens_a_request_that_records_it(env, cli, tmp_path, inbox):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    with TestClient(create_app(env.ctx)) as client:
        home = client.get("/portal")
        assert "signed copy of an identity document" in home.text  # the policy's words
        bad = _post_mortem(client, "ana@example.org", "communicate")  # to nobody designated
        assert bad.status_code == 422 and "the person who receives it" in bad.text
        made = _post_mortem(client, "ana@example.org", "erase")
        assert "Our staff check your identity" in made.text
        assert 'name="code"' not in made.text  # §16: a signed copy of ID, never a code
        request_id = made.url.path.rsplit("/", 1)[1]
        csrf = _csrf(client.get("/portal").text)
        typed = client.post(made.url.path + "/verify", data={"csrf": csrf, "code": "1"})
        assert "your request is confirmed" not in typed.text
    shown = __import__("json").loads(cli("requests", "show", request_id, "--json").stdout)
    assert shown["type"] == "post_mortem" and shown["channel"] == "portal"
    assert shown["status"] == "open"
    assert cli("outbox", "send").exit_code == 0
    told = [m for m in inbox.messages if "ana@example.org" in m.rcpt_tos]
    assert told and all(b"Your code" not in m.content for m in told)
    assert cli("requests", "verify", request_id, "--id-checked-by", "Claire").exit_code == 0
    processed = cli("requests", "process", request_id, "--json")
    assert "Your post-mortem directive is recorded" in processed.stdout


def test_every_address_gets_the_same_answer_and_the_same_work(env, cli, tmp_path, inbox):
    """Known, unknown and shared addresses: the same page, and each a code row and one
    message queued (the timing is not asserted here: the work is)."""
    from sqlalchemy import func, select

    from tutela.db import session_scope
    from tutela.outbox.models import OutboxMessage
    from tutela.requests.verification import Verification

    import_one(cli, tmp_path, "ana", "ana@example.org")
    import_one(cli, tmp_path, "bob", "shared@example.org")
    import_one(cli, tmp_path, "cy", "shared@example.org")
    pages, work = [], []
    for address in ("ana@example.org", "nobody@example.org", "shared@example.org"):
        with TestClient(create_app(env.ctx)) as client:
            pages.append(_submit(client, address, "erasure"))
        with session_scope(env.ctx.engine, write=False) as session:
            work.append(tuple(session.scalar(select(func.count()).select_from(t))
                              for t in (OutboxMessage, Verification)))  # fmt: skip
    strip = lambda page: re.sub(r"[0-9a-f]{32}|\d{4}-\d{2}-\d{2}|value=\"[^\"]+\"", "", page.text)  # noqa: E731
    assert len({(p.status_code, strip(p)) for p in pages}) == 1
    assert work == [(1, 1), (2, 2), (3, 3)]
    with TestClient(create_app(env.ctx)) as client:  # the shared address proves nobody
        made = _submit(client, "shared@example.org", "access")
        assert cli("outbox", "send").exit_code == 0
        shared = [m for m in inbox.messages if "shared@example.org" in m.rcpt_tos]
        assert shared and all(b"Your code" not in m.content for m in shared)
        wrong = client.post(
            made.url.path + "/verify", data={"csrf": _csrf(made.text), "code": "000000"}
        )
        assert "This code is wrong or has expired." in wrong.text


def test_an_unknown_address_proved_is_answered_that_nothing_is_held(env, cli, tmp_path, inbox):
    with TestClient(create_app(env.ctx)) as client:
        made = _submit(client, "nobody@example.org", "confirmation")
        code = mailed_code(cli, inbox, "nobody@example.org")
        verified = client.post(made.url.path + "/verify",
                               data={"csrf": _csrf(made.text), "code": code})  # fmt: skip
        assert "your request is confirmed" in verified.text
        assert cli("requests", "process", made.url.path.rsplit("/", 1)[1]).exit_code == 0
        assert "Download our answer (HTML)" in client.get(made.url.path).text
    assert cli("outbox", "send").exit_code == 0
    assert len([m for m in inbox.messages if "nobody@example.org" in m.rcpt_tos]) == 2


def test_a_request_never_verified_gives_its_requester_no_letter(env, cli, tmp_path, inbox):
    """Whoever types an address and spends its five wrong codes holds a request closed as
    unverified: its letter would name the person's customer id (and say that the address is
    known). Nothing is disclosed before the requester's identity is verified."""
    import_one(cli, tmp_path, "ana-customer", "ana@example.org")
    with TestClient(create_app(env.ctx)) as client:
        made = _submit(client, "ana@example.org", "confirmation")
        path = made.url.path
        for _ in range(5):
            client.post(path + "/verify", data={"csrf": _csrf(made.text), "code": "000000"})
        shown = client.get(path)
        assert "Download our answer" not in shown.text
        for fmt in ("html", "pdf"):
            letter = client.get(path + f"/letter?format={fmt}")
            assert letter.status_code == 404 and b"ana-customer" not in letter.content
    request_id = path.rsplit("/", 1)[1]
    shown = __import__("json").loads(cli("requests", "show", request_id, "--json").stdout)
    assert shown["status"] == "unverified"


def test_requests_nobody_proved_do_not_flag_the_persons_own_as_repeated(env, cli, tmp_path):
    """Anyone may type a person's address on the portal; the requests so opened, never
    verified, are not the person's: they do not count toward the repeated-requests flag
    (§10) that the person's own request would then carry to the DPO."""
    import json

    import_one(cli, tmp_path, "ana", "ana@example.org")
    for n in range(2):
        with TestClient(create_app(env.ctx), client=(f"203.0.113.{n}", 50000)) as stranger:
            assert _submit(stranger, "ana@example.org").status_code == 200
    own = cli("requests", "open", "--type", "access", "--external-id", "ana",
              "--channel", "post", "--json")  # fmt: skip
    assert json.loads(own.stdout)["flag"] is None
