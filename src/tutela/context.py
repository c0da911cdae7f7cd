"""The running configuration: settings, database engine, validated policy and keys.

Built once per process by the CLI or the API and passed down; nothing reads globals. The
policy in force is the store's latest activated version (the policy file until the store
holds one); a running process follows an activation within `POLICY_CHECK_S`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tutela.audit.chain import chain_with
from tutela.crypto.keyring import Keyring, open_keyring
from tutela.crypto.master_key import KeySet, MasterKey, load_keyset
from tutela.crypto.signing import Signer
from tutela.db import make_engine, session_scope
from tutela.policy import Policy, load_policy
from tutela.policy.loader import parse_stored
from tutela.register.versions import latest_seq
from tutela.settings import Settings
from tutela.subjects.validation import RecordRules

__all__ = ["POLICY_CHECK_S", "Context", "build_context"]

POLICY_CHECK_S = 2.0  # how often a process looks for a newly activated policy version


@dataclass
class Context:
    settings: Settings
    engine: Engine
    _policy: Policy
    _rules: RecordRules
    _policy_seq: int | None = field(default=None, repr=False)
    _policy_checked: float = field(default=float("-inf"), repr=False)
    _keyring: Keyring | None = field(default=None, repr=False)
    _signer: Signer | None = field(default=None, repr=False)
    _chain_master: MasterKey | None = field(default=None, repr=False)

    @property
    def policy(self) -> Policy:
        """The policy in force: the store's latest version, looked for every few seconds."""
        self.follow_policy()
        return self._policy

    @property
    def rules(self) -> RecordRules:
        self.follow_policy()
        return self._rules

    def follow_policy(self, *, now: bool = False) -> None:
        """Take up a version activated since the last look (`now`: look at once)."""
        moment = time.monotonic()
        if not now and moment - self._policy_checked < POLICY_CHECK_S:
            return
        self._policy_checked = moment
        found = latest_seq(self.engine)
        if found is None or found[0] == self._policy_seq:
            return
        seq, text = found
        policy = parse_stored(text)
        self._policy, self._rules, self._policy_seq = policy, RecordRules(policy), seq

    def keyset(self) -> KeySet:
        """The master keys, read again from the key file (or the variable) at each call."""
        env = self.settings.master_key
        return load_keyset(
            key_file=self.settings.key_file, env_value=env.get_secret_value() if env else None
        )

    def keyring(self, session: Session) -> Keyring:
        """The unlocked keyring, opened on first use and kept for the life of the process: it
        reads the key file again when a rotation elsewhere makes it need to."""
        if self._keyring is None:
            self._keyring = open_keyring(session, self.keyset(), reload=self.keyset)
        return self._keyring

    def open_keyring(self) -> Keyring:
        """The keyring, opened in a short transaction of its own if it is not yet."""
        if self._keyring is None:
            with session_scope(self.engine, write=False) as session:
                self.keyring(session)
        return self._keyring

    def forget_keys(self) -> None:
        self._keyring = self._chain_master = None

    def chain_master(self) -> MasterKey:
        """The master key whose chain key links what this process records in the trail: the
        one it wraps new keys under once its keyring is open (it follows a rotation), the
        key file's active key before."""
        if self._keyring is not None:
            return self._keyring.master
        if self._chain_master is None:
            self._chain_master = self.keyset().active
        return self._chain_master

    def opengdpr_signer(self) -> Signer | None:
        """The OpenGDPR processor key and certificate, loaded on first use; None when the
        files are not there (the OpenGDPR door then answers 503)."""
        s = self.settings
        if self._signer is None and s.opengdpr_key_file.exists():
            self._signer = Signer.load(
                key_file=s.opengdpr_key_file,
                certificate_file=s.opengdpr_certificate_file,
                domain=s.opengdpr_domain,
            )
        return self._signer


def build_context(settings: Settings, *, database_url: str | None = None) -> Context:
    """Validate the policy first: nothing starts with an invalid one."""
    policy = load_policy(settings.policy_file)
    url = database_url or settings.database_url
    ctx = Context(settings, make_engine(url), policy, RecordRules(policy))
    chain_with(ctx.engine, ctx.chain_master)
    return ctx
