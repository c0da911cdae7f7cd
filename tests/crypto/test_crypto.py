"""Per-subject keys, associated-data binding, rotation and shredding."""

import os
import stat

import pytest
from sqlalchemy import select, update

from tutela.crypto.cipher import DecryptionRefused, SubjectCipher
from tutela.crypto.keyring import open_keyring
from tutela.crypto.master_key import KeyFileError, MasterKey, create_key_file, read_key_file
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
    assert read_key_file(path) == key
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
    old = read_key_file(env.settings.key_file)
    with session_scope(env.ctx.engine) as session:
        wrapped_before = dict(session.execute(select(DataKey.subject_id, DataKey.wrapped)).all())

    result = cli("keys", "rotate", "--json")
    assert result.exit_code == 0, result.stderr
    assert '"rewrapped_data_keys": 30' in result.stdout

    new = read_key_file(env.settings.key_file)
    assert new.key_id != old.key_id
    assert not env.settings.key_file.with_name("tutela.key.next").exists()
    env.ctx.forget_keys()
    for external_id, data in before.items():
        assert _read_all(env, external_id) == data
    with session_scope(env.ctx.engine) as session:
        rows = session.execute(select(DataKey.subject_id, DataKey.wrapped, DataKey.master_key_id))
        for sid, wrapped, key_id in rows:
            assert key_id == new.key_id and wrapped != wrapped_before[sid]
        with pytest.raises(KeyFileError, match="not the one this database was sealed with"):
            open_keyring(session, old)


def test_a_wrong_master_key_is_refused_by_name(env):
    with session_scope(env.ctx.engine) as session, pytest.raises(KeyFileError) as caught:
        open_keyring(session, MasterKey.generate())
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


def test_rotation_with_an_environment_key_writes_the_new_key_elsewhere(
    env, cli, monkeypatch, tmp_path
):
    monkeypatch.setenv("TUTELA_MASTER_KEY", read_key_file(env.settings.key_file).to_text())
    result = cli("keys", "rotate")
    assert result.exit_code == 1 and "--out" in result.stderr
    out = tmp_path / "new.key"
    result = cli("keys", "rotate", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    monkeypatch.setenv("TUTELA_MASTER_KEY", read_key_file(out).to_text())
    assert cli("subjects", "list", "--json").exit_code == 0
