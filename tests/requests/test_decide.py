"""`decide` is a pure function: the same request, facts, policy and day give the same decision,
with no database. Over random people, requests and days, an erasure never keeps data past
its rule and never erases data a legal ground still needs."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tutela.access.gate import EVERY_CATEGORY, Limit, SubjectFacts
from tutela.policy import load_policy
from tutela.requests.decide import decide
from tutela.requests.decision import Action, Hold, Outcome, PersonFacts, RequestFacts
from tutela.retention.schedule import add_months
from tutela.subjects.held import Held

POLICY = load_policy()
CATEGORIES = [c.id for c in POLICY.categories]
days = st.dates(date(2015, 1, 1), date(2032, 12, 31))


@st.composite
def people(draw):
    kind = draw(st.sampled_from(POLICY.kind_ids))
    lifecycle = {
        "first_contact_at": draw(st.none() | days),
        "last_contact_at": draw(st.none() | days),
        "subscription_started_at": draw(st.none() | days),
        "subscription_ended_at": draw(st.none() | days),
        "last_connection_at": draw(st.none() | days),
        "last_transaction_at": draw(st.none() | days),
        "date_of_death": None,
    }
    held = {
        c: Held(draw(st.integers(1, 5)), draw(st.none() | days), frozenset())
        for c in draw(st.sets(st.sampled_from(CATEGORIES), min_size=1))
    }
    holds = tuple(
        Hold(f"CASE-{n}", draw(st.sampled_from(["debt_disputes", "legal_archiving"])), frozenset(c))
        for n, c in enumerate(
            draw(st.lists(st.sets(st.sampled_from(CATEGORIES), min_size=1), max_size=2))
        )
    )
    return PersonFacts("p-1", SubjectFacts(kind, lifecycle=lifecycle), held, holds)


def rule_ends(person: PersonFacts, category: str) -> list[date]:
    """Each removal date the policy's rules give this category, read straight from the file."""
    ends = []
    for rule in POLICY.retention:
        if category in rule.categories and person.kind in rule.subject_kinds:
            anchor = (
                person.held[category].latest
                if rule.anchor == "collected_at"
                else person.lifecycle.get(rule.anchor)
            )
            if anchor is not None:
                ends.append(add_months(anchor, rule.active_months + rule.archive_months))
    return ends


def legal_need(person: PersonFacts, category: str, as_of: date) -> bool:
    """Whether a legal ground still needs the category: a hold covers it, or a purpose the
    policy keeps despite erasure uses it for this kind and its rules have not ended it."""
    if any(category in h.categories for h in person.holds):
        return True
    exception = any(
        p.erasure_exception and category in p.categories and person.kind in p.subject_kinds
        for p in POLICY.purposes
    )
    contract = POLICY.rights_requests.running_contract
    started = person.lifecycle.get(contract.started)
    ended = person.lifecycle.get(contract.ended)
    running = started is not None and started <= as_of and (ended is None or ended > as_of)
    needed = exception or (running and category in contract.categories)
    ends = rule_ends(person, category)
    return needed and not (ends and min(ends) <= as_of)


@settings(max_examples=400, deadline=None)
@given(person=people(), as_of=days)
def test_an_erasure_never_keeps_past_a_rule_nor_erases_what_the_law_needs(person, as_of):
    decision = decide(RequestFacts("r", "erasure"), person, POLICY, as_of)
    assert decision.outcome == Outcome.DONE
    assert {i.category for i in decision.items} == set(person.held)
    for item in decision.items:
        needed = legal_need(person, item.category, as_of)
        assert (item.action == Action.KEEP) == needed, (item, person)
        if item.action != Action.KEEP:
            continue
        assert item.grounds and item.reason
        held = any(item.category in h.categories for h in person.holds)
        ends = rule_ends(person, item.category)
        if held:
            assert item.until is None  # until the hold is lifted
        elif ends:
            assert item.until == min(ends) and item.until > as_of  # never a past date
        else:
            assert item.until is None  # the rule's anchor is not known yet


@settings(max_examples=200, deadline=None)
@given(person=people(), as_of=days)
def test_what_is_kept_serves_its_grounds_only(person, as_of):
    decision = decide(RequestFacts("r", "erasure"), person, POLICY, as_of)
    for item in decision.of(Action.KEEP):
        for purpose in item.purposes:
            spec = POLICY.purpose(purpose)
            assert (
                spec.erasure_exception
                or spec.legal_basis == "contract"
                or any(h.purpose == purpose for h in person.holds)
            )
            assert not spec.objection_scopes  # no prospecting, no profiling


def _person(kind="client", held=("identification", "contract", "enriched"), **lifecycle):
    return PersonFacts(
        "p-1",
        SubjectFacts(kind, lifecycle=lifecycle),
        {c: Held(1, None, frozenset()) for c in held},
    )


def test_decide_reaches_no_database_and_no_clock():
    """Importing the decisions and the gate loads no database layer, and a decision names the
    day and policy it was made under: what it depends on is what it is given."""
    import subprocess
    import sys

    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tutela.requests.decide, tutela.access.gate, tutela.retention.ends; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy' "
            "or m in ('tutela.db', 'tutela.clock')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert loaded.strip() == "['tutela.clock']"  # the gate's date conversion, never now()
    person = _person(subscription_started_at=date(2024, 1, 1))
    decision = decide(RequestFacts("r", "erasure"), person, POLICY, date(2031, 1, 1))
    assert decision == decide(RequestFacts("r", "erasure"), person, POLICY, date(2031, 1, 1))
    assert (decision.as_of, decision.policy_version) == (date(2031, 1, 1), POLICY.version)


def test_the_banking_anchor_is_the_last_transaction_not_the_subscription():
    person = _person(
        held=("banking",),
        subscription_started_at=date(2020, 1, 1),
        subscription_ended_at=date(2026, 6, 30),
        last_transaction_at=date(2026, 1, 10),
    )
    (item,) = decide(RequestFacts("r", "erasure"), person, POLICY, date(2026, 7, 1)).items
    assert (item.action, item.until, item.rule) == (Action.KEEP, date(2027, 2, 10), "banking_data")
    assert "last transaction" in item.reason
    (late,) = decide(RequestFacts("r", "erasure"), person, POLICY, date(2027, 2, 10)).items
    assert late.action == Action.ERASE  # its period ended that day: it goes now


def test_a_restriction_is_refused_for_what_a_running_contract_needs_only():
    running = _person(subscription_started_at=date(2024, 1, 1))
    decision = decide(RequestFacts("r", "restriction"), running, POLICY, date(2026, 12, 1))
    actions = {i.category: i.action for i in decision.items}
    assert actions == {
        "identification": Action.REFUSE,
        "contract": Action.REFUSE,
        "enriched": Action.RESTRICT,
    }
    assert decision.outcome == Outcome.DONE and not decision.restrict_all
    needed_only = _person(held=("identification",), subscription_started_at=date(2024, 1, 1))
    refused = decide(RequestFacts("r", "restriction"), needed_only, POLICY, date(2026, 12, 1))
    assert refused.outcome == Outcome.REFUSED and "§13" in refused.reasons[0]
    ended = _person(
        subscription_started_at=date(2020, 1, 1), subscription_ended_at=date(2025, 1, 1)
    )
    whole = decide(RequestFacts("r", "restriction"), ended, POLICY, date(2026, 12, 1))
    assert whole.restrict_all and {i.action for i in whole.items} == {Action.RESTRICT}


def test_a_restriction_can_be_lifted_only_where_there_is_one():
    free = _person()
    assert (
        decide(RequestFacts("r", "lift_restriction"), free, POLICY, date(2026, 12, 1)).outcome
        == Outcome.REFUSED
    )
    restricted = PersonFacts(
        "p-1",
        SubjectFacts("client", limits={EVERY_CATEGORY: (Limit("restriction"),)}),
        {"identification": Held(1, None, frozenset())},
    )
    lifted = decide(RequestFacts("r", "lift_restriction"), restricted, POLICY, date(2026, 12, 1))
    assert lifted.outcome == Outcome.DONE and "lifted" in lifted.reasons[0]


def test_nothing_held_and_kinds_not_automated():
    nothing = decide(RequestFacts("r", "access"), None, POLICY, date(2026, 12, 1))
    assert nothing.outcome == Outcome.NOTHING_HELD
    odd = decide(RequestFacts("r", "wish"), _person(), POLICY, date(2026, 12, 1))
    assert odd.outcome == Outcome.NOT_AUTOMATED


def test_a_hold_keeps_what_it_covers_until_it_is_lifted():
    person = PersonFacts(
        "p-1",
        SubjectFacts(
            "prospect", lifecycle={"last_contact_at": date(2026, 1, 1) - timedelta(days=1)}
        ),
        {"identification": Held(1, None, frozenset()), "enriched": Held(1, None, frozenset())},
        (Hold("CASE-9", "debt_disputes", frozenset({"identification"})),),
    )
    decision = decide(RequestFacts("r", "erasure"), person, POLICY, date(2026, 12, 1))
    kept, erased = decision.of(Action.KEEP), decision.of(Action.ERASE)
    assert [i.category for i in kept] == ["identification"] and kept[0].until is None
    assert kept[0].grounds == ("hold:debt_disputes",) and "CASE-9" in kept[0].reason
    assert [i.category for i in erased] == ["enriched"]
