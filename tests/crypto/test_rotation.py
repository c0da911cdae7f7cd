"""Online rotation: a server that writes and reads through a rotation never wraps under a
retired key, and afterwards everything is readable with the new key alone; a rotation
killed midway is resumed by running it again."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from sqlalchemy import func, select

from conftest import free_port
from tutela.crypto.keyring import open_keyring
from tutela.crypto.master_key import KeySet, read_key_file
from tutela.crypto.models import DataKey
from tutela.db import session_scope
from tutela.subjects import service
from tutela.subjects.models import Subject


def record(n: int) -> dict:
    return {
        "external_id": f"r-{n}",
        "kind": "prospect",
        "source": "website_contact",
        "identification": {"last_name": "Roy", "email": f"r{n}@example.org"},
    }


def everything_reads_with(env, keyset: KeySet) -> int:
    """How many people's data decrypts with these master keys alone (all, or it raises)."""
    with session_scope(env.ctx.engine, write=False) as session:
        keyring = open_keyring(session, keyset)
        ids = session.scalars(select(Subject.id)).all()
        for sid in ids:
            data, _ = service.read(
                session=session,
                cipher=keyring.cipher(session, sid),
                policy=env.ctx.policy,
                categories=["identification"],
            )
            assert data["identification"]["last_name"] == "Roy"
        return len(ids)


def test_a_rotation_while_a_server_writes_and_reads(env, cli, tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tutela.cli", "serve", "--port", str(port)],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {env.admin_key}", "Content-Type": "application/json"}
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        stop, failures, written = threading.Event(), [], []

        def load():
            n = 0
            while not stop.is_set():
                body = json.dumps(record(n)).encode()
                write = urllib.request.Request(f"{base}/subjects", body, headers, method="POST")
                read = urllib.request.Request(
                    f"{base}/subjects/r-{n}?purpose=rights_requests", headers=headers
                )
                try:
                    with urllib.request.urlopen(write, timeout=10):
                        written.append(n)
                    with urllib.request.urlopen(read, timeout=10) as answer:
                        answer.read()
                except urllib.error.HTTPError as exc:
                    exc.close()
                    failures.append((n, exc.code))
                n += 1

        loader = threading.Thread(target=load)
        loader.start()
        while len(written) < 30:
            time.sleep(0.05)
        rotated = cli("keys", "rotate", "--json")
        after = len(written)
        while len(written) < after + 30:  # the server goes on writing under the new key
            time.sleep(0.05)
        stop.set()
        loader.join(30)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
    assert rotated.exit_code == 0, rotated.stderr
    assert failures == []
    keys = read_key_file(env.settings.key_file)
    with session_scope(env.ctx.engine, write=False) as session:
        under = dict(
            session.execute(
                select(DataKey.master_key_id, func.count()).group_by(DataKey.master_key_id)
            ).all()
        )
    assert under == {keys.active.key_id: len(written)}  # nothing under the retired key
    assert everything_reads_with(env, KeySet(keys.active)) == len(written)


def test_a_rotation_killed_midway_is_resumed(env, cli, tmp_path):
    path = tmp_path / "people.jsonl"
    path.write_text("".join(json.dumps(record(n)) + "\n" for n in range(300)))
    assert cli("subjects", "import", str(path)).exit_code == 0
    old = read_key_file(env.settings.key_file).active
    rotation = subprocess.Popen(
        [sys.executable, "-m", "tutela.cli", "keys", "rotate"],
        env={**os.environ, "TUTELA_ROTATION_BATCH": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            with session_scope(env.ctx.engine, write=False) as session:
                moved = session.scalar(
                    select(func.count())
                    .select_from(DataKey)
                    .where(DataKey.master_key_id != old.key_id)
                )
            if moved >= 20:
                break
            assert rotation.poll() is None, "the rotation ended before it could be killed"
            time.sleep(0.01)
        rotation.send_signal(signal.SIGKILL)
        rotation.wait(10)
    finally:
        if rotation.poll() is None:
            rotation.kill()
    half = read_key_file(env.settings.key_file)
    assert half.retiring and half.retiring[0] == old  # both keys kept while it is unfinished
    assert everything_reads_with(env, half) == 300
    resumed = json.loads(cli("keys", "rotate", "--json").stdout)
    assert resumed["resumed"] and resumed["finished"]
    assert resumed["master_key_id"] == half.active.key_id  # the same new key, not another
    done = read_key_file(env.settings.key_file)
    assert done.retiring == () and old.key_id in done.retired
    assert everything_reads_with(env, KeySet(done.active)) == 300
