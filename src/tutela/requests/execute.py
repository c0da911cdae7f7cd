"""Carrying a decision out, through the same services as everything else, in the caller's
transaction. Each kind of decision has its step; what it did comes back as plain lines for
the answer, the categories changed (for Art. 19) and, for an erasure, its receipt."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tutela.access.gate import EVERY_CATEGORY, Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.consent import service as consent
from tutela.crypto.keyring import Keyring
from tutela.db import utc_naive
from tutela.requests.decide import DIRECTIVE_TEXT
from tutela.requests.decision import Action, Decision, Outcome, PersonFacts
from tutela.requests.models import PostMortemDirective, RightsRequest
from tutela.subjects import receipts
from tutela.subjects import service as subjects
from tutela.subjects.validation import RecordRules

__all__ = ["Done", "carry_out", "directive_label", "lift"]


@dataclass
class Done:
    lines: list[str] = field(default_factory=list)
    # What recipients must be told of (Art. 19): category -> corrected values (none for an
    # erasure or a restriction). Never stored: it may hold personal values.
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)
    receipt: dict[str, Any] | None = None  # the erasure receipt, as shown


def directive_label(subject_id: str) -> str:
    """The label a post-mortem designate's sealed address is bound to."""
    return f"post-mortem:{subject_id}"


def carry_out(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    request: RightsRequest,
    decision: Decision,
    facts: PersonFacts | None,
    at: datetime,
) -> Done:
    """Do what the decision says; nothing for an answer that only gives or confirms."""
    done = Done()
    step = _STEPS.get(decision.type)
    if step is not None and facts is not None and decision.outcome == Outcome.DONE:
        step(session, keyring, rules, actor, request, decision, facts, at, done)
    return done


def _erasure(session, keyring, rules, actor, request, decision, facts, at, done) -> None:
    policy, subject_id = rules.policy, request.subject_id
    erased = [i.category for i in decision.of(Action.ERASE)]
    kept = decision.of(Action.KEEP)
    if decision.suppress:  # before the blind indexes it reads are erased
        consent.suppress(session=session, subject_id=subject_id, reason="erasure", at=at)
        done.lines.append(
            "your e-mail and phone, as keyed digests, are on our suppression list: bought or "
            "researched data will not bring you back"
        )
    key_ids = []
    if not kept:
        ref = subjects.lookup(session=session, external_id=facts.external_id)
        if ref.wrapped_key is not None:
            key_ids.append(keyring.data_key_id(ref.id, ref.wrapped_key))
        subjects.erase(session=session, subject_ids=[subject_id])
        directive = session.get(PostMortemDirective, subject_id)
        if directive is not None:  # nothing is left for it to act on
            session.delete(directive)
        done.lines.insert(0, "all your personal data was erased, and the key that encrypted it")
    else:
        subjects.erase_categories(
            session=session, policy=policy, subject_id=subject_id, categories=set(erased)
        )
        # What is kept serves its grounds; every other category, erased or never held, what
        # the running contract produces from now on, or nothing but the person's own rights.
        running = policy.contract_running(facts.lifecycle, decision.as_of)
        grounds = {item.category: (item.grounds, item.until) for item in kept}
        for category in policy.categories:
            kept_for, until = grounds.get(category.id, (("contract",) if running else (), None))
            subjects.limit(
                session=session,
                subject_id=subject_id,
                category=category.id,
                basis="erasure",
                grounds=kept_for,
                until=until,
                request_id=request.id,
                at=at,
            )
        stored = subjects.storage_categories(policy)
        if stored.get("payments") in {i.category for i in kept} and subjects.release_retain_consent(
            session=session, subject_id=subject_id
        ):
            done.lines.append("your agreement to keep your payment details is withdrawn")
        if erased:
            done.lines.insert(0, "erased: " + ", ".join(erased))
    done.changed = {category: {} for category in erased}
    seq = audit.log(
        session,
        policy,
        at,
        Event(
            actor.name,
            "erase",
            "done",
            subject_id=subject_id,
            categories=erased,
            reason="erasure request",
            detail={
                "request": request.id,
                "kept": [i.category for i in kept],
                "data_keys_destroyed": key_ids,
            },
        ),
    )
    receipt = receipts.issue(
        session=session,
        at=at,
        policy_version=policy.version,
        erased={c: facts.held[c].records for c in erased},
        events=[seq],
        request_id=request.id,
        external_id=facts.external_id,
        kept=[
            {
                "category": i.category,
                "grounds": list(i.grounds),
                "until": i.until.isoformat() if i.until else None,
                "rule": i.rule,
            }
            for i in kept
        ],
        data_keys=key_ids,
        as_of=decision.as_of.isoformat(),
    )
    request.receipt_id = receipt.id
    done.receipt = receipts.shown(session, receipt)


def _restriction(session, keyring, rules, actor, request, decision, facts, at, done) -> None:
    restricted = [i.category for i in decision.of(Action.RESTRICT)]
    for category in [EVERY_CATEGORY] if decision.restrict_all else restricted:
        subjects.limit(
            session=session,
            subject_id=request.subject_id,
            category=category,
            basis="restriction",
            grounds=("restriction",),
            until=None,
            request_id=request.id,
            at=at,
        )
    done.lines.append(
        "processing restricted: "
        + ("all your data" if decision.restrict_all else ", ".join(restricted))
        + " is only stored, and used for legal obligations, legal claims and your own rights"
    )
    done.changed = {category: {} for category in restricted}


def lift(*, session: Session, subject_id: str, held, at: datetime) -> list[str]:
    """Lift the restriction of a person's data; the categories it covered (those held, for
    a restriction of every category)."""
    lifted = subjects.unlimit(session=session, subject_id=subject_id, basis="restriction", at=at)
    return sorted(held) if EVERY_CATEGORY in lifted else lifted


def _lift_restriction(session, keyring, rules, actor, request, decision, facts, at, done) -> None:
    lifted = lift(session=session, subject_id=request.subject_id, held=facts.held, at=at)
    done.lines.append("restriction lifted")
    done.changed = {c: {} for c in lifted}


def _objection(session, keyring, rules, actor, request, decision, facts, at, done) -> None:
    for scope in decision.objections:
        consent.object_to(
            session=session, policy=rules.policy, subject_id=request.subject_id, scope=scope, at=at
        )
    if decision.suppress:
        consent.suppress(session=session, subject_id=request.subject_id, reason="objection", at=at)
    scopes = ", ".join(decision.objections) or "already recorded"
    done.lines.append(f"objection recorded: {scopes}")


def _consent_withdrawal(session, keyring, rules, actor, request, decision, facts, at, done):
    for purpose in decision.withdrawals:
        consent.withdraw(session=session, subject_id=request.subject_id, purpose=purpose, at=at)
        done.lines.append(f"consent withdrawn: {rules.policy.purpose(purpose).name}")


def _rectification(session, keyring, rules, actor, request, decision, facts, at, done) -> None:
    values = {tuple(key.split(".", 1)): value for key, value in decision.corrections.items()}
    subject = subjects.get_by_id(session=session, subject_id=request.subject_id)
    subjects.rectify(
        session=session, keyring=keyring, rules=rules, subject=subject, values=values, at=at
    )
    done.lines.append("corrected: " + ", ".join(sorted(decision.corrections)))
    for (category, field_id), value in values.items():
        done.changed.setdefault(category, {})[field_id] = value


def _post_mortem(session, keyring, rules, actor, request, decision, facts, at, done) -> None:
    asked = decision.directive
    current = session.get(PostMortemDirective, request.subject_id)
    if asked["directive"] == "revoke":
        session.delete(current)
        done.lines.append("your post-mortem directive is revoked")
        return
    if current is None:
        current = PostMortemDirective(subject_id=request.subject_id)
        session.add(current)
    current.directive, current.recorded_at = asked["directive"], utc_naive(at)
    current.request_id = request.id
    designate = asked.get("designate")
    current.designate = (
        keyring.seal_note(designate, label=directive_label(request.subject_id))
        if designate
        else None
    )
    done.lines.append(f"post-mortem directive recorded: {DIRECTIVE_TEXT[asked['directive']]}")


_STEPS = {
    "erasure": _erasure,
    "restriction": _restriction,
    "lift_restriction": _lift_restriction,
    "objection": _objection,
    "consent_withdrawal": _consent_withdrawal,
    "rectification": _rectification,
    "post_mortem": _post_mortem,
}
