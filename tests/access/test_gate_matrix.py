"""Every role x category x purpose of the bundled policy gives the decision the policy implies."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tutela.access.gate import EVERY_CATEGORY, Actor, Limit, SubjectFacts, authorize
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
        facts=SubjectFacts(
            spec.subject_kinds[0], consented=frozenset({purpose} if consented else ())
        ),
        purpose=purpose,
        categories=[category],
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
        facts=SubjectFacts("client", consented=frozenset({purpose})),
        purpose=purpose,
        categories=[category],
        at=AT,
    )
    assert decision.granted is granted


def test_a_purpose_for_another_kind_of_subject_is_refused():
    decision = authorize(
        policy=POLICY,
        actor=Actor("x", ("customer_relations",)),
        action="read",
        facts=SubjectFacts("prospect"),
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
        facts=SubjectFacts("prospect", frozenset({purpose}), frozenset({scope})),
        purpose=purpose,
        at=AT,
    )
    assert not decision.granted and f"objected to {scope}" in decision.reason


def test_an_objection_leaves_other_purposes_alone():
    decision = authorize(
        policy=POLICY,
        actor=Actor("x", ("sales",)),
        action="read",
        facts=SubjectFacts("prospect", objections=frozenset({"prospecting", "profiling"})),
        purpose="contact_assistance",
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
        policy=POLICY,
        actor=actor,
        action="read",
        facts=SubjectFacts("client"),
        purpose="rights_requests",
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
        facts=SubjectFacts("client"),
        purpose=None,
        categories=["identification", "technical"],
        at=AT,
    )
    assert allowed.granted
    refused = authorize(
        policy=POLICY,
        actor=Actor("app", ("application",)),
        action="write",
        facts=SubjectFacts("client"),
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
    kind = POLICY.purpose(purpose).subject_kinds[0]
    scopes = frozenset(o.id for o in POLICY.objections)
    everything = SubjectFacts(kind, frozenset(POLICY.purpose_ids), scopes)
    for role in POLICY.recipients:
        read = dict(
            policy=POLICY, actor=Actor("x", (role.id,)), action="read", purpose=purpose, at=AT
        )
        assert authorize(**read, facts=SubjectFacts(kind)) == authorize(**read, facts=everything)


def _read_everything(purpose, facts, categories=None):
    return authorize(
        policy=POLICY,
        actor=Actor("x", None),
        action="read",
        facts=facts,
        purpose=purpose.id,
        categories=categories,
        at=AT,
    )


@pytest.mark.parametrize("purpose", POLICY.purposes, ids=lambda p: p.id)
def test_a_restriction_leaves_legal_obligations_claims_and_the_persons_rights(purpose):
    """Art. 18(2): storage, legal claims, legal obligations and the person's own rights."""
    facts = SubjectFacts(
        purpose.subject_kinds[0],
        consented=frozenset({purpose.id}),
        limits={EVERY_CATEGORY: (Limit("restriction"),)},
    )
    decision = _read_everything(purpose, facts)
    survives = purpose.erasure_exception is not None or purpose.id == "rights_requests"
    assert decision.granted == survives, purpose.id
    if not survives:
        assert "restricted" in decision.reason
    assert {"accounting_billing", "rights_requests", "debt_disputes"} <= {
        p.id for p in POLICY.purposes if p.erasure_exception or p.id == "rights_requests"
    }


@pytest.mark.parametrize("purpose", POLICY.purposes, ids=lambda p: p.id)
def test_what_an_erasure_kept_serves_only_its_grounds(purpose):
    """Kept for a legal obligation: only the purposes of that ground (and the person's
    rights) read it; every other purpose is refused that category."""
    kept = {"identification": (Limit("erasure", ("legal_obligation",)),)}
    facts = SubjectFacts("client", consented=frozenset({purpose.id}), limits=kept)
    decision = authorize(
        policy=POLICY,
        actor=Actor("x", None),
        action="read",
        facts=facts,
        purpose=purpose.id,
        categories=["identification"],
        at=AT,
    )
    if "identification" not in purpose.categories or "client" not in purpose.subject_kinds:
        assert not decision.granted
        return
    grounds = purpose.erasure_exception == "legal_obligation" or purpose.id == "rights_requests"
    assert decision.granted == grounds, purpose.id
    if not grounds:
        assert "since an erasure request, only for" in decision.reason


def test_a_running_contract_ground_ends_with_the_contract():
    kept = {"identification": (Limit("erasure", ("contract", "legal_obligation")),)}
    running = SubjectFacts(
        "client", limits=kept, lifecycle={"subscription_started_at": date(2024, 1, 1)}
    )
    support = POLICY.purpose("support")
    assert _read_everything(support, running, ["identification"]).granted
    ended = SubjectFacts(
        "client",
        limits=kept,
        lifecycle={
            "subscription_started_at": date(2024, 1, 1),
            "subscription_ended_at": date(2026, 1, 1),
        },
    )
    refused = _read_everything(support, ended, ["identification"])
    assert not refused.granted and "only for" in refused.reason
    billing = POLICY.purpose("accounting_billing")
    assert _read_everything(billing, ended, ["identification"]).granted


@pytest.mark.parametrize("purpose", POLICY.purposes, ids=lambda p: p.id)
def test_from_a_recorded_death_prospecting_and_profiling_are_refused(purpose):
    kind = purpose.subject_kinds[0]
    everything = frozenset(POLICY.purpose_ids)
    dead = SubjectFacts(kind, everything, lifecycle={"date_of_death": date(2026, 11, 1)})
    decision = _read_everything(purpose, dead)
    closed = bool(set(purpose.objection_scopes) & {"prospecting", "profiling"})
    assert decision.granted == (not closed), purpose.id
    if closed:
        assert "has died" in decision.reason and "2026" not in decision.reason
    alive = SubjectFacts(kind, everything, lifecycle={"date_of_death": date(2026, 12, 1)})
    assert _read_everything(purpose, alive).granted  # a death recorded for a later day
