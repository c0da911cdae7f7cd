"""The console's rights-requests pages over HTTP, on both engines: the list filtered as
`tutela requests list` filters it; a request's history; verifying, extending with reasons,
refusing, processing through the same flows as the CLI; the letter, the copy and the receipt
downloaded as files; each form refused without its token or to a role that does not steer
requests."""

import json
import re
from datetime import timedelta

from console_support import csrf_of, sign_in, staff
from fastapi.testclient import TestClient
from portal_people import import_one

from tutela.api import create_app
from tutela.clock import now


def _open(cli, external_id, type_="access", received=None):
    args = ["requests", "open", "--type", type_, "--external-id", external_id]
    args += ["--channel", "post", "--json"]
    if received:
        args += ["--received", str(received)]
    return json.loads(cli(*args).stdout)["id"]


def _shown(cli, request_id):
    return json.loads(cli("requests", "show", request_id, "--json").stdout)


def _listed(html):
    return set(re.findall(r'href="/console/requests/([0-9a-f]{32})"', html))


def test_the_list_filters_by_status_type_person_and_deadline(env, key_for, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    import_one(cli, tmp_path, "bob", "bob@example.org")
    staff(env, key_for, "claire", ["dpo"])
    late = _open(cli, "ana", received=now().date() - timedelta(days=40))
    erasure = _open(cli, "ana", "erasure")
    bobs = _open(cli, "bob")
    cli("requests", "cancel", bobs)
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        everything = client.get("/console/requests")
        assert _listed(everything.text) == {late, erasure}  # in progress: not the cancelled
        assert 'class="overdue"' in everything.text
        only = {
            "type": "erasure",
            "overdue": "on",
            "status": "cancelled",
            "person": "ana",
        }
        assert _listed(client.get("/console/requests", params={"type": "erasure"}).text) == {
            erasure
        }
        assert _listed(client.get("/console/requests", params={"overdue": "on"}).text) == {late}
        cancelled = client.get("/console/requests", params={"status": "cancelled"})
        assert _listed(cancelled.text) == {bobs}
        theirs = client.get("/console/requests", params={"person": "ana", "due_within": "3"})
        assert _listed(theirs.text) == {late}
        none = client.get("/console/requests", params={**only, "person": "nobody"})
        assert _listed(none.text) == set() and "No request matches." in none.text
        odd = client.get("/console/requests", params={"status": "x", "due_within": "9" * 5000})
        assert odd.status_code == 200 and _listed(odd.text) == {late, erasure}
        french = client.get("/console/requests", params={"lang": "fr"})
        assert "En retard seulement" in french.text


def test_staff_verify_extend_and_refuse_a_request(env, key_for, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "claire", ["dpo"])
    request_id = _open(cli, "ana", "erasure")
    due = _shown(cli, request_id)["due_on"]
    path = f"/console/requests/{request_id}"
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        opened = client.get(path)
        token = csrf_of(opened.text)
        assert "Who checked the ID document" in opened.text
        long = client.post(f"{path}/verify", data={"csrf": token, "id_checked_by": "C" * 200})
        assert long.status_code == 422 and "at most 128 characters" in long.text
        assert "Process the request" not in opened.text  # not before the identity is checked
        verified = client.post(f"{path}/verify",
                               data={"csrf": token, "id_checked_by": "Claire, DPO office"})  # fmt: skip
        assert "Identity verified." in verified.text and "Claire, DPO office" in verified.text
        assert "ID document checked" in verified.text and "Process the request" in verified.text
        assert "Who checked the ID document" not in verified.text
        assert _shown(cli, request_id)["status"] == "verified"

        bare = client.post(f"{path}/extend", data={"csrf": token, "months": "2", "reason": " "})
        assert bare.status_code == 422 and "an extension needs its reasons" in bare.text
        wordy = client.post(f"{path}/extend",
                            data={"csrf": token, "months": "1", "reason": "x" * 1024})  # fmt: skip
        assert wordy.status_code == 422 and "at most 1000 characters" in wordy.text
        assert _shown(cli, request_id)["due_on"] == due
        extended = client.post(f"{path}/extend",
                               data={"csrf": token, "months": "2", "reason": "many systems"})  # fmt: skip
        shown = _shown(cli, request_id)
        assert shown["due_on"] > due and shown["extension_reason"] == "many systems"
        assert "the person is told by e-mail" in extended.text
        assert "many systems" in extended.text and shown["due_on"] in extended.text
        assert "Extend the deadline" not in extended.text  # once only
        again = client.post(f"{path}/extend", data={"csrf": token, "months": "1", "reason": "x"})
        assert again.status_code == 409 and "already extended" in again.text

        empty = client.post(f"{path}/refuse", data={"csrf": token, "reason": ""})
        assert empty.status_code == 422 and "needs its reasons" in empty.text
        refused = client.post(f"{path}/refuse",
                              data={"csrf": token, "reason": "the fifth this week"})  # fmt: skip
        assert "Refused; the person is told" in refused.text
        assert "manifestly unfounded or excessive (GDPR Art. 12(5)): the fifth this week" in (
            refused.text
        )
        assert not re.search(r'action="[^"]+/(verify|extend|refuse|process)"', refused.text)
        assert _shown(cli, request_id)["status"] == "refused"
        late = client.post(f"{path}/verify", data={"csrf": token, "id_checked_by": "Claire"})
        assert late.status_code == 409 and "the request is refused" in late.text
        french = client.get(path, params={"lang": "fr"})
        assert "Historique" in french.text and "Délai prolongé" in french.text
    events = json.loads(cli("audit", "show", "--json").stdout)
    assert {"verify_identity", "extend_request", "refuse_request"} <= {
        e["action"] for e in events if e["principal"] == "claire"
    }


def test_a_role_that_does_not_steer_requests_is_refused_every_step(env, key_for, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "mia", ["marketing"])
    request_id = _open(cli, "ana")
    path = f"/console/requests/{request_id}"
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "mia")
        shown = client.get(path)
        assert shown.status_code == 403 and "for the roles that handle them" in shown.text
        assert "<textarea" not in shown.text and "/verify" not in shown.text
        token = csrf_of(shown.text)  # the sign-out form's: a genuine token of hers
        forms = {
            "verify": {"id_checked_by": "Mia"},
            "extend": {"months": "1", "reason": "busy"},
            "refuse": {"reason": "too many"},
            "process": {},
        }
        for step, data in forms.items():
            refused = client.post(f"{path}/{step}", data={"csrf": token, **data})
            assert refused.status_code == 403, step
            assert "for the roles that handle them" in refused.text
        for name in ("letter", "copy", "receipt"):
            assert client.get(f"{path}/{name}").status_code == 403
    shown = _shown(cli, request_id)
    assert shown["status"] == "open" and shown["extended_months"] == 0


def test_a_forged_token_changes_nothing(env, key_for, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "claire", ["dpo"])
    request_id = _open(cli, "ana")
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        forged = client.post(f"/console/requests/{request_id}/verify",
                             data={"csrf": "forged", "id_checked_by": "Claire"})  # fmt: skip
        assert forged.status_code == 403 and "did not come from this site" in forged.text
        refused = client.post(f"/console/requests/{request_id}/refuse", data={"reason": "x"})
        assert refused.status_code == 403
    assert _shown(cli, request_id)["status"] == "open"


def _verified_and_processed(client, request_id):
    path = f"/console/requests/{request_id}"
    token = csrf_of(client.get(path).text)
    client.post(f"{path}/verify", data={"csrf": token, "id_checked_by": "Claire"})
    return client.post(f"{path}/process", data={"csrf": token})


def _is_file(answer, media, name):
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(media)
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert answer.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_letter_copy_and_receipt_download_as_files(env, key_for, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "claire", ["dpo"])
    access = _open(cli, "ana", "access")
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        early = client.get(f"/console/requests/{access}/copy", params={"format": "json"})
        assert early.status_code == 403 and "nothing is disclosed" in early.text
        processed = _verified_and_processed(client, access)
        assert "Processed." in processed.text and "The answer with the copy of the data" in (
            processed.text
        )
        for fmt, media in (("json", "application/json"), ("csv", "text/csv"),
                           ("html", "text/html"), ("pdf", "application/pdf")):  # fmt: skip
            copy = client.get(f"/console/requests/{access}/copy", params={"format": fmt})
            _is_file(copy, media, f"{access}-copy.{fmt}")
            if fmt != "pdf":
                assert "ana@example.org" in copy.text and "Roy" in copy.text
        assert client.get(f"/console/requests/{access}/copy?format=pdf").content[:4] == b"%PDF"
        letter = client.get(f"/console/requests/{access}/letter", params={"format": "html"})
        _is_file(letter, "text/html", f"{access}-letter.html")
        assert "Roy" in letter.text
        pdf = client.get(f"/console/requests/{access}/letter")
        _is_file(pdf, "application/pdf", f"{access}-letter.pdf")
        odd = client.get(f"/console/requests/{access}/letter", params={"format": "xls"})
        assert odd.status_code == 422 and "expected one of: html, pdf" in odd.text

        erasure = _open(cli, "ana", "erasure")
        done = _verified_and_processed(client, erasure)
        assert "The erasure receipt" in done.text and "The answer with the copy" not in done.text
        receipt = client.get(f"/console/requests/{erasure}/receipt")
        _is_file(receipt, "application/json", f"{erasure}-receipt.json")
        assert receipt.json()["request"] == erasure and "Roy" not in receipt.text
    exports = [e for e in json.loads(cli("audit", "show", "--json").stdout)
               if e["action"] == "export" and e["principal"] == "claire"]  # fmt: skip
    assert len(exports) >= 6  # each copy, and each letter carrying one, is audited


def test_a_request_from_an_address_several_people_hold_is_never_answered_nothing_held(
    env, key_for, cli, tmp_path
):
    """The portal opens a request for nobody from an address several people hold, for staff
    to answer at that address: the console flags it, and processing it as it stands (which
    would tell the person that nothing is held about them) is refused, with what to do."""
    import_one(cli, tmp_path, "ana", "shared@example.org")
    import_one(cli, tmp_path, "bob", "shared@example.org")
    staff(env, key_for, "claire", ["dpo"])
    with TestClient(create_app(env.ctx)) as person:
        form = person.get("/portal")
        made = person.post("/portal/requests", data={"csrf": csrf_of(form.text),
                           "type": "access", "email": "shared@example.org"})  # fmt: skip
        request_id = made.url.path.rsplit("/", 1)[1]
        assert "several" not in made.text  # the person is told nothing of it
    path = f"/console/requests/{request_id}"
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        opened = client.get(path)
        assert "several people hold the address" in opened.text
        token = csrf_of(opened.text)
        client.post(f"{path}/verify", data={"csrf": token, "id_checked_by": "Claire"})
        processed = client.post(f"{path}/process", data={"csrf": token})
        assert processed.status_code == 409 and "by external id" in processed.text
    shown = _shown(cli, request_id)
    assert shown["status"] == "verified" and shown["answer"] is None
    assert cli("requests", "process", request_id).exit_code != 0  # the CLI alike
