"""What the public form endpoint answers."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["FormField", "FormView"]


class FormField(BaseModel):
    field: str  # category.field, as records name it
    type: str
    label: str
    mandatory: bool  # shown with an asterisk (§5.4)


class FormView(BaseModel):
    id: str
    lang: str
    name: str
    fields: list[FormField]
    consequence_if_missing: str  # what leaving a mandatory field empty means (§17)
    policy_version: str
