"""Warnings on a valid policy that looks legal but is wrong: what `tutela policy check`
reports beside the errors that stop a policy from loading. Each warning names its key path.

A warning never stops the engine (the rules it enforces stay well defined); it tells the DPO
what a register, a notice or the CNIL would find missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutela.policy.schema import BASE_LANGUAGE, Policy
from tutela.policy.texts import texts
from tutela.subjects.values import ValueProblem, check_value

__all__ = ["PolicyWarning", "warnings"]


@dataclass(frozen=True)
class PolicyWarning:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def warnings(policy: Policy) -> list[PolicyWarning]:
    """Every warning on `policy`, in the order of the file."""
    return [
        *_contacts(policy),
        *_purposes(policy),
        *_subprocessors(policy),
        *_retention(policy),
        *_translations(policy),
    ]


def _contacts(policy: Policy):
    contacts = {"controller": policy.controller, "dpo": policy.dpo}
    if policy.controller.representative is not None:
        contacts["controller.representative"] = policy.controller.representative
    for path, contact in contacts.items():
        if contact.email is None:
            continue
        try:
            check_value("email", contact.email)
        except ValueProblem:
            yield PolicyWarning(f"{path}.email", "not a valid e-mail address")


def _purposes(policy: Policy):
    granted = {p for r in policy.recipients for g in r.grants for p in g.purposes}
    for i, purpose in enumerate(policy.purposes):
        path = f"purposes[{i}]"
        if purpose.legal_basis == "legitimate_interests":
            if not purpose.balancing_test:
                yield PolicyWarning(
                    f"{path}.balancing_test",
                    f"'{purpose.id}' rests on legitimate interests without the reference of "
                    "its balancing test",
                )
            if not purpose.legitimate_interest:
                yield PolicyWarning(
                    f"{path}.legitimate_interest",
                    f"'{purpose.id}' does not say which legitimate interest it pursues "
                    "(Art. 13(1)(d))",
                )
        if purpose.legal_basis == "consent" and not purpose.withdrawal:
            yield PolicyWarning(
                f"{path}.withdrawal",
                f"'{purpose.id}' rests on consent without a way to withdraw it (Art. 7(3))",
            )
        if purpose.id not in granted:
            yield PolicyWarning(path, f"no recipient is granted '{purpose.id}': nobody may use it")
        if (purpose.profiling or purpose.automated_decision) and purpose.dpia is None:
            yield PolicyWarning(
                f"{path}.dpia", f"'{purpose.id}' profiles people without an impact assessment"
            )


def _subprocessors(policy: Policy):
    for i, sub in enumerate(policy.subprocessors):
        path = f"subprocessors[{i}]"
        if sub.outside_eea and not sub.transfer_safeguard:
            yield PolicyWarning(
                f"{path}.transfer_safeguard",
                f"'{sub.id}' receives data outside the EEA without a safeguard (Art. 46)",
            )
        if not sub.contract_reference:
            yield PolicyWarning(
                f"{path}.contract_reference", f"'{sub.id}' has no Art. 28 contract reference"
            )


def _retention(policy: Policy):
    """Categories used with no rule to end them, and rules over categories nothing uses."""
    for i, purpose in enumerate(policy.purposes):
        for j, category in enumerate(purpose.categories):
            for kind in purpose.subject_kinds:
                if not policy.rules_for(category, kind):
                    yield PolicyWarning(
                        f"purposes[{i}].categories[{j}]",
                        f"no retention rule ends '{category}' of a '{kind}' "
                        f"that '{purpose.id}' uses",
                    )
    used = {(c, k) for p in policy.purposes for c in p.categories for k in p.subject_kinds}
    for i, rule in enumerate(policy.retention):
        for j, category in enumerate(rule.categories):
            if not any((category, kind) in used for kind in rule.subject_kinds):
                yield PolicyWarning(
                    f"retention[{i}].categories[{j}]",
                    f"'{rule.id}' keeps '{category}', which no purpose uses for its people",
                )


def _translations(policy: Policy):
    keys = dict(texts(policy))
    for lang in policy.languages:
        if lang == BASE_LANGUAGE:
            continue
        given = policy.translations.get(lang, {})
        for key in keys:
            if key not in given:
                yield PolicyWarning(f"translations.{lang}.{key}", f"missing translation ({lang})")
        for key in given:
            if key not in keys:
                yield PolicyWarning(
                    f"translations.{lang}.{key}", "translates no text of the policy"
                )
    for lang in policy.translations:
        if lang not in policy.languages:
            yield PolicyWarning(f"translations.{lang}", f"'{lang}' is not one of `languages`")
