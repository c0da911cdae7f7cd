"""The register of breaches (Art. 33(5)): every breach, notified or not, with its facts, its
effects and the remedial action, and for one not notified, why; as CSV, HTML or PDF."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy.orm import Session

from tutela.breaches.service import every, local
from tutela.breaches.severity import reason
from tutela.breaches.view import full
from tutela.breaches.words import number, word
from tutela.crypto.keyring import Keyring
from tutela.documents import csv_cell, pdf, templates
from tutela.policy.schema import Policy
from tutela.policy.texts import Localised

__all__ = ["COLUMNS", "FORMATS", "export", "rows"]

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
COLUMNS = (
    "breach",
    "status",
    "aware_at",
    "nature",
    "facts",
    "effects",
    "consequences",
    "severity",
    "remedial",
    "notified",
    "why_not",
    "told",
)


def _row(policy: Policy, b: dict, lang: str) -> dict[str, str]:
    t = Localised(policy, lang)
    effects = [
        f"{t.of('categories', policy.category(c), 'name') if policy.category(c) else c}"
        f"{word('colon', lang)}"
        f"{number(n['people'], lang)} {word('people', lang).lower()}, "
        f"{number(n['records'], lang)} "
        f"{word('records', lang).lower()}"
        for c, n in b["by_category"].items()
    ]
    assessment = b["assessment"]
    notified = "; ".join(
        f"{n['phase']}: {n['submitted_local']}" + (f" ({n['reference']})" if n["reference"] else "")
        for n in b["notifications"]
    )
    if assessment is None:
        why_not, told, level = "", "", word("not_assessed", lang)
    else:
        if assessment["notify_authority"]:  # not a reason not to: it is owed, or done
            pending = word("pending", lang, deadline=local(policy, b["deadline_at"]))
            why_not = "" if b["notifications"] else pending
        else:
            why_not = reason(*assessment["reasons"]["authority"], lang)
        told = (
            f"{local(policy, b['told_at'])} ({word(b['told_how'], lang)})"
            if b["told_at"]
            else reason(*assessment["reasons"]["people"], lang)
        )
        level = f"{word(assessment['level'], lang)} ({number(assessment['severity'], lang)})"
    return {
        "breach": b["id"],
        "status": word(f"s_{b['status']}", lang),
        "aware_at": local(policy, b["aware_at"]),
        "nature": ", ".join(word(n, lang) for n in b["natures"]),
        "facts": b["description"],
        "effects": "; ".join(effects),
        "consequences": b["consequences"] or "",
        "severity": level,
        "remedial": b["measures"] or "",
        "notified": notified or word("no", lang),
        "why_not": why_not,
        "told": told,
    }


def rows(session: Session, keyring: Keyring, policy: Policy, at: datetime, lang: str) -> list:
    return [_row(policy, full(session, keyring, policy, b, at), lang) for b in every(session)]


def export(table: list[dict], fmt: str, lang: str, policy: Policy) -> bytes:
    headings = [word(c, lang).split(" (")[0] for c in COLUMNS]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(headings)
        for row in table:
            writer.writerow([csv_cell(row[c]) for c in COLUMNS])
        return out.getvalue().encode()
    page = templates("tutela.breaches").get_template("register.html")
    html = page.render(
        title=word("register", lang),
        controller=policy.controller.name,
        headings=headings,
        columns=COLUMNS,
        rows=table,
        lang=lang,
    )
    return html.encode() if fmt == "html" else pdf(html)
