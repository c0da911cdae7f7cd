"""Every role x category x purpose of the bundled policy gives the decision the policy implies."""

from datetime import UTC, datetime, timedelta

import pytest

from tutela.access.gate import Actor, authorize
from tutela.policy import load_policy

POLICY = load_policy()
AT = datetime(2026, 11, 27, 12, tzinfo=UTC)


def expected(role: str, category: str, purpose: str, consented: bool) -> bool:
    """Read straight from the policy's tables: the purpose uses the category, one of the
    role's grants names both, and consent is held where the purpose rests on it."""
    spec = POLICY.purpose(purpose)
    if spec.legal_basis == "consent" and not consented:
        return False
    if category not in spec.categories:
        return False
    grants = POLICY.recipient(role).grants
    return any(purpose in g.purposes and category in g.categories for g in grants)


CASES = [
    (role.id, category.id, purpose.id, consented)
    for role in POLICY.recipients
    for category in POLICY.categories
    for purpose in POLICY.purposes
    for consented in ((False, True) if purpose.legal_basis == "consent" else (False,))
]


def test_the_matrix_has_both_outcomes_and_every_combination():
    outcomes = [expected(*case) for case in CASES]
    assert len(CASES) > 1500
    assert sum(outcomes) > 80 and outcomes.count(False) > 1000


@pytest.mark.parametrize(("role", "category", "purpose", "consented"), CASES)
def test_decision_follows_the_policy(role, category, purpose, consented):
    spec = POLICY.purpose(purpose)
    decision = authorize(
        policy=POLICY,
        actor=Actor("someone", (role,)),
        action="read",
        subject_kind=spec.subject_kinds[0],
        purpose=purpose,
        categories=[category],
        consented={purpose} if consented else set(),
        at=AT,
    )
    assert decision.granted == expected(role, category, purpose, consented)
    assert (category in decision.allowed) == decision.granted
    if not decision.granted:
        assert decision.reason  # a refusal always says why


@pytest.mark.parametrize(
    ("role", "purpose", "category", "granted"),
    [
        ("administration", "accounting_billing", "banking", True),
        ("marketing", "accounting_billing", "banking", False),
        ("marketing", "profiling", "banking", False),
        ("debt_collection", "debt_disputes", "banking", True),
        ("debt_collection", "relationship_management", "identification", False),
        ("partners", "relationship_management", "identification", True),
        ("partners", "relationship_management", "enriched", False),
        ("authorities", "rights_requests", "identification", False),
        ("dpo", "rights_requests", "technical", True),
    ],
)
def test_landmarks_of_the_bundled_policy(role, purpose, category, granted):
    decision = authorize(
        policy=POLICY,
        actor=Actor("x", (role,)),
        action="read",
        subject_kind="client",
        purpose=purpose,
        categories=[category],
        consented={purpose},
        at=AT,
    )
    assert decision.granted is granted


def test_a_purpose_for_another_kind_of_subject_is_refused():
    decision = authorize(
        policy=POLICY,
        actor=Actor("x", ("customer_relations",)),
        action="read",
        subject_kind="prospect",
        purpose="support",
        at=AT,
    )
    assert not decision.granted and "does not apply to a prospect" in decision.reason


@pytest.mark.parametrize(
    ("scope", "purpose"),
    [
        ("prospecting", "newsletter"),
        ("prospecting", "profiling"),
        ("profiling", "relationship_management"),
    ],
)
def test_an_objection_refuses_the_purposes_of_its_scope(scope, purpose):
    decision = authorize(
        policy=POLICY,
        actor=Actor("x", ("marketing",)),
        action="read",
        subject_kind="prospect",
        purpose=purpose,
        consented={purpose},
        objections={scope},
        at=AT,
    )
    assert not decision.granted and f"objected to {scope}" in decision.reason


def test_an_objection_leaves_other_purposes_alone():
    decision = authorize(
        policy=POLICY,
        actor=Actor("x", ("sales",)),
        action="read",
        subject_kind="prospect",
        purpose="contact_assistance",
        objections={"prospecting", "profiling"},
        at=AT,
    )
    assert decision.granted


def test_a_principal_outside_its_active_dates_is_refused():
    until = AT + timedelta(days=1)
    actor = Actor(
        "leaver",
        ("dpo",),
        active_from=(AT - timedelta(days=10)).replace(tzinfo=None),
        active_until=until.replace(tzinfo=None),
    )
    read = dict(
        policy=POLICY, actor=actor, action="read", subject_kind="client", purpose="rights_requests"
    )
    assert authorize(**read, at=AT).granted
    late = authorize(**read, at=until)
    assert not late.granted and "left on" in late.reason
    early = authorize(**read, at=AT - timedelta(days=11))
    assert not early.granted and "active only from" in early.reason


def test_writes_need_a_role_that_may_use_every_category_written():
    allowed = authorize(
        policy=POLICY,
        actor=Actor("app", ("application",)),
        action="write",
        subject_kind="client",
        purpose=None,
        categories=["identification", "technical"],
        at=AT,
    )
    assert allowed.granted
    refused = authorize(
        policy=POLICY,
        actor=Actor("app", ("application",)),
        action="write",
        subject_kind="client",
        purpose=None,
        categories=["identification", "banking"],
        at=AT,
    )
    assert not refused.granted and "banking" in refused.reason


@pytest.mark.parametrize("purpose", [p.id for p in POLICY.purposes])
def test_standing_is_skipped_only_where_it_cannot_change_a_decision(purpose):
    from tutela.access.gate import depends_on_standing

    if depends_on_standing(POLICY, purpose):
        return
    everything = {"consented": set(POLICY.purpose_ids), "objections": {"prospecting", "profiling"}}
    for role in POLICY.recipients:
        read = dict(
            policy=POLICY,
            actor=Actor("x", (role.id,)),
            action="read",
            subject_kind=POLICY.purpose(purpose).subject_kinds[0],
            purpose=purpose,
            at=AT,
        )
        assert authorize(**read) == authorize(**read, **everything)


def test_a_restricted_subject_serves_only_legal_claims_and_obligations():
    for purpose in POLICY.purposes:
        decision = authorize(
            policy=POLICY,
            actor=Actor("x", None),
            action="read",
            subject_kind=purpose.subject_kinds[0],
            purpose=purpose.id,
            consented={purpose.id},
            restricted=True,
            at=AT,
        )
        assert decision.granted == purpose.archive, purpose.id
