"""The severity of a breach and the decisions it leads to (Art. 33(1), 34(1), 34(3)(a)): a
pure function of what is known of the breach and of the policy's scores.

ENISA's method: severity = data-processing context x ease of identification + circumstances.
The context is the highest score among the categories that leaked readable, the ease of
identification the highest of theirs (or the DPO's own judgement); the circumstances add the
loss of confidentiality, integrity and availability and any malicious intent. A nature the
breach has whose circumstance is not given is scored at its worst, and the answer says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import get_args

from tutela.breaches.words import number, word
from tutela.policy.breach_rules import LEVELS, Breaches, Identification

__all__ = ["Assessment", "Facts", "assess", "reason"]

_WORST = {
    "confidentiality": "unknown_recipients",
    "integrity": "not_recoverable",
    "availability": "permanent",
}


@dataclass(frozen=True)
class Facts:
    """What is known of a breach when it is assessed."""

    natures: tuple[str, ...]
    readable: frozenset[str]  # categories that leaked readable (for at least one person)
    encrypted_only: frozenset[str]  # categories that leaked only as ciphertexts, keys safe
    people: int
    people_readable: int  # people some of whose data leaked readable
    circumstances: dict[str, str] = field(default_factory=dict)  # nature -> its circumstance
    malicious: bool = False
    identification: str | None = None  # the DPO's judgement, overriding the categories'


@dataclass(frozen=True)
class Assessment:
    context: float
    context_from: str | None  # the category that sets it
    identification: str
    identification_score: float
    circumstances: dict[str, str]
    circumstances_score: float
    malicious: bool
    severity: float
    level: str
    assumed: list[str]  # circumstances scored at their worst, not given
    notify_authority: bool
    authority_reason: str
    tell_people: bool
    people_reason: str
    people: int
    people_readable: int
    reasons: dict[str, list]  # each decision's reason: [code, values], to say in any language

    def as_dict(self) -> dict:
        return asdict(self)


def assess(facts: Facts, rules: Breaches) -> Assessment:
    scales = rules.severity
    circumstances, assumed = {}, []
    for nature in ("confidentiality", "integrity", "availability"):
        given = facts.circumstances.get(nature)
        if nature not in facts.natures:
            circumstances[nature] = "none"
        elif given is None:
            circumstances[nature] = _WORST[nature]
            assumed.append(nature)
        else:
            circumstances[nature] = given
    cb = sum(getattr(scales, n)[v] for n, v in circumstances.items())
    cb += scales.malicious if facts.malicious else 0.0

    scored = facts.readable or facts.encrypted_only
    meanings = {c: rules.categories[c] for c in scored if c in rules.categories}
    top = max(meanings, key=lambda c: meanings[c].context, default=None)
    context = meanings[top].context if top else 0.0
    if facts.identification is not None:
        identification = facts.identification
    elif not facts.readable:  # ciphertexts whose keys did not leak identify nobody
        identification = "negligible"
    else:
        order = get_args(Identification)  # negligible to maximum
        levels = [meanings[c].identification for c in facts.readable if c in meanings]
        identification = max(levels, key=order.index, default="negligible")
    ei = scales.identification[identification]
    severity = round(context * ei + cb, 2)
    level = scales.level(severity)

    notify, authority_code, authority_params = _authority(facts, rules, level)
    tell, people_code, people_params = _people(facts, rules, level)
    return Assessment(
        context=context,
        context_from=top,
        identification=identification,
        identification_score=ei,
        circumstances=circumstances,
        circumstances_score=round(cb, 2),
        malicious=facts.malicious,
        severity=severity,
        level=level,
        assumed=assumed,
        notify_authority=notify,
        authority_reason=reason(authority_code, authority_params, "en"),
        tell_people=tell,
        people_reason=reason(people_code, people_params, "en"),
        reasons={
            "authority": [authority_code, authority_params],
            "people": [people_code, people_params],
        },
        people=facts.people,
        people_readable=facts.people_readable,
    )


def _at_least(level: str, threshold: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(threshold)


def _authority(facts: Facts, rules: Breaches, level: str) -> tuple[bool, str, dict]:
    threshold = rules.severity.notify_authority_from
    if not facts.readable and set(facts.natures) == {"confidentiality"}:
        return False, "r_ciphertexts_authority", {}
    if _at_least(level, threshold):
        return True, "r_notify", {"level": level, "threshold": threshold}
    return False, "r_no_risk", {"level": level, "threshold": threshold}


def _people(facts: Facts, rules: Breaches, level: str) -> tuple[bool, str, dict]:
    threshold = rules.severity.tell_people_from
    if facts.people_readable == 0:
        return False, "r_ciphertexts_people", {"level": level}
    if not _at_least(level, threshold):
        return False, "r_no_high_risk", {"level": level, "threshold": threshold}
    spared = facts.people - facts.people_readable
    code = "r_tell_spared" if spared else "r_tell"
    return (
        True,
        code,
        {"level": level, "threshold": threshold, "people": facts.people_readable, "spared": spared},
    )


def reason(code: str, params: dict, lang: str) -> str:
    """A decision's reason in `lang`, levels in words."""
    shown = {k: word(v, lang) if k in ("level", "threshold") else v for k, v in params.items()}
    shown |= {k: number(v, lang) for k, v in params.items() if isinstance(v, int)}
    return word(code, lang, **shown)
