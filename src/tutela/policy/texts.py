"""The texts of a policy that people read (registers, notices, forms), each with its key.

A key is the text's path in the file, by id rather than position (`purposes.newsletter.name`,
`purposes.support.sub_purposes.0`): the key a translation is filed under, so that reordering
a section keeps its translations.
"""

from __future__ import annotations

from collections.abc import Iterator

from tutela.policy.schema import Policy

__all__ = ["READ_TEXTS", "Localised", "texts"]

# By section: the attributes people read. Names of people, places and organisations
# (controller, DPO, authority) are not translated.
READ_TEXTS: dict[str, tuple[str, ...]] = {
    "subject_kinds": ("name", "description", "told_when"),
    "categories": ("name", "description"),
    "sources": ("name", "description"),
    "forms": ("name", "consequence_if_missing"),
    "purposes": ("name", "description", "sub_purposes", "legitimate_interest", "withdrawal"),
    "recipients": ("name", "description"),
    "subprocessors": ("name", "service", "location", "guarantees", "transfer_safeguard"),
    "retention": ("description",),
    "security_measures": ("description",),
    "objections": ("name",),
    "impact_assessments": ("reason",),
    "rights": ("name", "description", "articles", "how"),
}


def texts(policy: Policy) -> Iterator[tuple[str, str]]:
    """(key, English text) for every text people read, empty ones left out."""
    for section, attributes in READ_TEXTS.items():
        for item in getattr(policy, section):
            for attribute in attributes:
                value = getattr(item, attribute)
                key = f"{section}.{item.id}.{attribute}"
                if isinstance(value, list):
                    for n, text in enumerate(value):
                        yield f"{key}.{n}", text
                elif value:
                    yield key, value
    for category in policy.categories:  # the labels of the forms' fields
        for spec in category.fields:
            if spec.description:
                yield f"categories.{category.id}.fields.{spec.id}", spec.description
    if policy.breaches is not None:  # what people are told of a breach (Art. 34(2))
        for name, meaning in policy.breaches.categories.items():
            yield f"breaches.categories.{name}.consequences", meaning.consequences
            yield f"breaches.categories.{name}.advice", meaning.advice
    if policy.rights_requests.identity_proof:
        yield "rights_requests.identity_proof", policy.rights_requests.identity_proof


class Localised:
    """The policy's texts in one language: `of(section, item, attribute)` gives an item's
    text, translated where the policy translates it."""

    def __init__(self, policy: Policy, lang: str) -> None:
        self.policy = policy
        self.lang = lang

    def of(self, section: str, item, attribute: str) -> str:
        english = getattr(item, attribute) or ""
        return self.policy.text(self.lang, f"{section}.{item.id}.{attribute}", english)

    def key(self, key: str, english: str) -> str:
        """A text by its whole key (a field's label, the proof of identity)."""
        return self.policy.text(self.lang, key, english)

    def each(self, section: str, item, attribute: str) -> list[str]:
        """A list of texts (sub-purposes), each translated."""
        key = f"{section}.{item.id}.{attribute}"
        return [
            self.policy.text(self.lang, f"{key}.{n}", text)
            for n, text in enumerate(getattr(item, attribute))
        ]
