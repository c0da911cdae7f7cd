"""Per-subject keys, associated-data binding, rotation and shredding."""

import json
import os
import stat

import pytest
from sqlalchemy import select, update

from tutela.crypto.cipher import DecryptionRefused, SubjectCipher
from tutela.crypto.keyring import open_keyring
from tutela.crypto.master_key import (
    KeyFileError,
    KeySet,
    MasterKey,
    create_key_file,
    read_key_file,
)
from tutela.crypto.models import DataKey
from tutela.db import session_scope
from tutela.errors import NotFound
from tutela.subjects import service
from tutela.subjects.models import PersonalValue, Subject


def _import(env, cli, records, tmp_path):
    import json

    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = cli("subjects", "import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _read_all(env, external_id):
    with session_scope(env.ctx.engine) as session:
        return service.read(
            session=session,
            cipher=env.ctx.keyring(session).cipher(
                session, service.get(session=session, external_id=external_id).id
            ),
            policy=env.ctx.policy,
            categories=[c.id for c in env.ctx.policy.categories],
        )[0]


def test_key_file_is_private_and_never_overwritten(tmp_path):
    path = tmp_path / "k" / "tutela.key"
    key = create_key_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_key_file(path).active == key
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        create_key_file(path)
    assert key.to_text() not in repr(key)


def test_ciphertext_is_bound_to_subject_category_and_field():
    key = os.urandom(32)
    alice = SubjectCipher("subject-a", key)
    blob = alice.encrypt("identification", "email", "ana@example.org")
    assert alice.decrypt("identification", "email", blob) == "ana@example.org"
    # Even under the same key, another subject, category or field refuses the ciphertext.
    with pytest.raises(DecryptionRefused):
        SubjectCipher("subject-b", key).decrypt("identification", "email", blob)
    with pytest.raises(DecryptionRefused):
        alice.decrypt("identification", "phone", blob)
    with pytest.raises(DecryptionRefused):
        alice.decrypt("enriched", "email", blob)


def test_moving_a_stored_ciphertext_to_another_subject_is_refused(env, cli, example, tmp_path):
    other = dict(example, external_id="crm-43")
    _import(env, cli, [example, other], tmp_path)
    with session_scope(env.ctx.engine) as session:
        ids = dict(session.execute(select(Subject.external_id, Subject.id)).all())
        stolen = session.scalar(
            select(PersonalValue.ciphertext).where(
                PersonalValue.subject_id == ids["crm-42"], PersonalValue.field == "email"
            )
        )
        session.execute(
            update(PersonalValue)
            .where(PersonalValue.subject_id == ids["crm-43"], PersonalValue.field == "email")
            .values(ciphertext=stolen)
        )
    with pytest.raises(DecryptionRefused):
        _read_all(env, "crm-43")
    assert _read_all(env, "crm-42")["identification"]["email"] == "ana@example.org"


def test_rotation_rewraps_every_key_and_reads_everything_back(env, cli, example, tmp_path):
    records = [dict(example, external_id=f"crm-{i}") for i in range(30)]
    _import(env, cli, records, tmp_path)
    before = {r["external_id"]: _read_all(env, r["external_id"]) for r in records}
    old = read_key_file(env.settings.key_file).active
    with session_scope(env.ctx.engine) as session:
        wrapped_before = dict(session.execute(select(DataKey.subject_id, DataKey.wrapped)).all())

    result = cli("keys", "rotate", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rewrapped_data_keys"] == 30 and report["finished"]
    assert report["retired_master_key_ids"] == [old.key_id]

    keys = read_key_file(env.settings.key_file)
    new = keys.active
    assert new.key_id != old.key_id and keys.retiring == ()
    assert set(keys.retired) == {old.key_id}  # only its chain key is left
    assert old.to_text() not in env.settings.key_file.read_text()
    env.ctx.forget_keys()
    for external_id, data in before.items():
        assert _read_all(env, external_id) == data
    with session_scope(env.ctx.engine) as session:
        rows = session.execute(select(DataKey.subject_id, DataKey.wrapped, DataKey.master_key_id))
        for sid, wrapped, key_id in rows:
            assert key_id == new.key_id and wrapped != wrapped_before[sid]
        with pytest.raises(KeyFileError, match="not the one this database was sealed with"):
            open_keyring(session, KeySet(old))
        alone = open_keyring(session, KeySet(new))  # the new key alone reads everything
        for sid in wrapped_before:
            assert alone.cipher(session, sid)


def test_an_older_key_file_of_one_base64_key_still_opens(env, cli, example, tmp_path):
    _import(env, cli, [example], tmp_path)
    key = read_key_file(env.settings.key_file).active
    env.settings.key_file.write_text(key.to_text() + "\n")
    env.ctx.forget_keys()
    assert _read_all(env, "crm-42")["identification"]["email"] == "ana@example.org"


def test_a_wrong_master_key_is_refused_by_name(env):
    with session_scope(env.ctx.engine) as session, pytest.raises(KeyFileError) as caught:
        open_keyring(session, KeySet(MasterKey.generate()))
    assert "sealed with" in str(caught.value)


def test_erasing_a_subject_destroys_its_data_key(env, cli, example, tmp_path):
    _import(env, cli, [example], tmp_path)
    with session_scope(env.ctx.engine) as session:
        subject = service.get(session=session, external_id="crm-42")
        wrapped = session.get(DataKey, subject.id).wrapped
        blob = session.scalar(
            select(PersonalValue.ciphertext).where(
                PersonalValue.subject_id == subject.id, PersonalValue.field == "email"
            )
        )
        service.erase(session=session, subject_ids=[subject.id])
    with session_scope(env.ctx.engine) as session:
        assert session.get(DataKey, subject.id) is None
        assert (
            session.scalar(
                select(PersonalValue.field).where(PersonalValue.subject_id == subject.id)
            )
            is None
        )
        keyring = env.ctx.keyring(session)
    # A copy of the ciphertext (a backup) is readable only with the key that is now gone.
    cipher = SubjectCipher(subject.id, keyring.unwrap(subject.id, wrapped))
    assert cipher.decrypt("identification", "email", blob) == "ana@example.org"
    with session_scope(env.ctx.engine) as session, pytest.raises(NotFound, match="no data key"):
        keyring.cipher(session, subject.id)


def test_rotation_with_an_environment_key_is_done_in_two_steps(
    env, cli, monkeypatch, tmp_path, example
):
    _import(env, cli, [example], tmp_path)
    monkeypatch.setenv("TUTELA_MASTER_KEY", read_key_file(env.settings.key_file).to_text())
    result = cli("keys", "rotate")
    assert result.exit_code == 1 and "--out" in result.stderr
    out = tmp_path / "new.key"
    first = json.loads(cli("keys", "rotate", "--out", str(out), "--json").stdout)
    assert not first["finished"]  # the processes must get the new key set first
    monkeypatch.setenv("TUTELA_MASTER_KEY", out.read_text())
    second = json.loads(cli("keys", "rotate", "--out", str(out), "--json").stdout)
    assert second["finished"] and second["rewrapped_data_keys"] == 1
    monkeypatch.setenv("TUTELA_MASTER_KEY", read_key_file(out).active.to_text())
    shown = cli("subjects", "show", "crm-42", "--purpose", "rights_requests", "--json")
    assert shown.exit_code == 0 and "ana@example.org" in shown.stdout
