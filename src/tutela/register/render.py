"""The register as files: CSV in the columns of the CNIL's register model, JSON, JSON-LD in
W3C DPV 2.2 terms, an HTML page, and that same page as PDF."""

from __future__ import annotations

import csv
import io
from typing import Any

from jinja2 import Environment, PackageLoader

from tutela import jsonout
from tutela.documents import csv_cell, pdf, templates
from tutela.errors import InvalidInput
from tutela.register import words
from tutela.register.words import word

__all__ = ["FORMATS", "MEDIA", "NOTICE_FORMATS", "render", "render_notice"]

FORMATS = ("json", "jsonld", "csv", "html", "pdf")
MEDIA = {
    "json": "application/json",
    "jsonld": "application/ld+json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "md": "text/markdown; charset=utf-8",
}
NOTICE_FORMATS = ("html", "md", "pdf")

_templates = templates("tutela.register")
_markdown = Environment(loader=PackageLoader("tutela.register", "templates"), autoescape=False)


def check(fmt: str, lang: str, formats: tuple[str, ...] = FORMATS) -> None:
    if fmt not in formats:
        raise InvalidInput(f"expected one of: {', '.join(formats)}", location="format")
    if lang not in words.LANGUAGES:
        raise InvalidInput(f"expected one of: {', '.join(words.LANGUAGES)}", location="lang")


def render(register: dict[str, Any], fmt: str) -> str | bytes:
    """`register` (from `activities.register`) in `fmt`; PDF comes as bytes."""
    if fmt == "json":
        return jsonout.text(register, indent=True)
    if fmt == "jsonld":
        return jsonout.text(_linked(register), indent=True)
    if fmt == "csv":
        return _csv(register)
    page = _templates.get_template("register.html").render(
        register=register,
        w=lambda key: word(key, register["lang"]),
        lines=_lines,
        category_lines=category_lines,
    )
    return page if fmt == "html" else pdf(page)


def render_notice(notice: dict[str, Any], fmt: str) -> str | bytes:
    """A notice (from `privacy_notice.notice`) as HTML, Markdown or PDF."""
    w = lambda key: word(key, notice["lang"])  # noqa: E731
    if fmt == "md":
        return _markdown.get_template("notice.md").render(n=notice, w=w)
    page = _templates.get_template("notice.html").render(n=notice, w=w)
    return page if fmt == "html" else pdf(page)


# CSV ---------------------------------------------------------------------------------------

# The CNIL register model's columns, in its order; then what Art. 30 and this register add.
COLUMNS = (
    "activity",
    "reference",
    "created",
    "updated",
    "controller",
    "dpo",
    "representative",
    "purpose",
    "sub_purposes",
    "legal_basis",
    "categories",
    "sensitive",
    "subjects",
    "recipients",
    "transfers",
    "security",
    "sources",
    "subprocessors",
    "profiling",
    "dpia",
)


def _lines(register: dict[str, Any], activity: dict[str, Any]) -> dict[str, str]:
    """Each column of one activity as text, in the register's language."""
    lang = register["lang"]
    basis = activity["legal_basis"]
    colon = word("colon", lang)
    legal = f"{basis['words']} ({basis['article']})"
    if basis["legitimate_interest"]:
        legal += f"{colon}{basis['legitimate_interest']}"
    if basis["balancing_test"]:
        legal += f" [{word('balancing_test', lang)}{colon}{basis['balancing_test']}]"
    recipients = [
        f"{r['name']} ({word(r['kind'], lang)}{colon}{', '.join(r['categories'])})"
        for r in activity["recipients"]
    ] + [f"{s['name']} ({word('subprocessors', lang).lower()})" for s in activity["subprocessors"]]
    transfers = [
        f"{t['subprocessor']}, {t['location']}{colon}{t['safeguard'] or word('not_recorded', lang)}"
        for t in activity["transfers"]
    ]
    dpia = activity["dpia"]
    return {
        "activity": activity["name"],
        "reference": activity["reference"],
        "created": activity["created"].isoformat(),
        "updated": activity["updated"].isoformat(),
        "controller": _who(register["controller"]),
        "dpo": _who(register["dpo"]),
        "representative": _who(register["representative"]) or word("no_representative", lang),
        "purpose": activity["name"],
        "sub_purposes": "; ".join(activity["sub_purposes"]) or word("none_f", lang),
        "legal_basis": legal,
        "categories": " | ".join(category_lines(activity, lang)),
        "sensitive": ", ".join(activity["sensitive_data"]) or word("no_sensitive", lang),
        "subjects": ", ".join(k["name"] for k in activity["data_subjects"]),
        "recipients": " | ".join(recipients),
        "transfers": " | ".join(transfers) or word("no_transfer", lang),
        "security": " | ".join(m["description"] for m in register["security_measures"]),
        "sources": " | ".join(
            f"{s['name']} ({', '.join(s['categories'])})" for s in activity["sources"]
        )
        or word("none_f", lang),
        "subprocessors": " | ".join(_subprocessor(s, lang) for s in activity["subprocessors"])
        or word("none", lang),
        "profiling": (
            f"{word('profiling_yes' if activity['profiling'] else 'profiling_no', lang)}; "
            f"{word('automated_yes' if activity['automated_decision'] else 'automated_no', lang)}"
        ),
        "dpia": word("dpia_unassessed", lang)
        if dpia is None
        else (
            f"{word('dpia_required' if dpia['required'] else 'dpia_not_required', lang)}{colon}"
            f"{dpia['reason']}" + (f" ({dpia['reference']})" if dpia["reference"] else "")
        ),
    }


def category_lines(activity: dict[str, Any], lang: str) -> list[str]:
    """Each category of an activity with its erasure limits, for whom each holds."""
    colon = word("colon", lang)
    kinds = {k["id"]: k["name"] for k in activity["data_subjects"]}
    lines = []
    for c in activity["data_categories"]:
        limits = "; ".join(
            f"{', '.join(kinds[k] for k in e['subject_kinds'])}{colon}{e['words']} "
            f"({e['total_months']} {word('months', lang)})"
            for e in c["erasure"]
        )
        lines.append(f"{c['name']}{colon}{limits or word('no_limit', lang)}")
    return lines


def _who(contact: dict[str, Any] | None) -> str:
    if contact is None:
        return ""
    parts = [contact.get("name"), contact.get("organisation"), contact.get("address")]
    parts += [contact.get("email"), contact.get("phone")]
    return ", ".join(p for p in parts if p)


def _subprocessor(s: dict[str, Any], lang: str) -> str:
    contract = s["contract_reference"] or word("not_recorded", lang)
    if s["contract_date"]:
        contract += f" ({s['contract_date'].isoformat()})"
    audit = s["last_audit"].isoformat() if s["last_audit"] else word("not_recorded", lang)
    return (
        f"{s['name']}, {s['service']}, {s['location']}; {word('contract', lang)} {contract}; "
        f"{word('audited', lang)} {audit}"
    )


def _csv(register: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    lang = register["lang"]
    writer.writerow([word(column, lang) for column in COLUMNS])
    for activity in register["activities"]:
        line = _lines(register, activity)
        writer.writerow([csv_cell(line[column]) for column in COLUMNS])
    return out.getvalue()


# JSON-LD -----------------------------------------------------------------------------------

CONTEXT = {
    "dpv": "https://w3id.org/dpv#",
    "dpv-pd": "https://w3id.org/dpv/pd#",
    "pd": "https://w3id.org/dpv/pd#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "dct": "http://purl.org/dc/terms/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}
# The GDPR's legal bases in DPV's terms and in its GDPR extension's articles.
_BASES = {
    "consent": ("dpv:Consent", "eu-gdpr:A6-1-a"),
    "contract": ("dpv:Contract", "eu-gdpr:A6-1-b"),
    "legal_obligation": ("dpv:LegalObligation", "eu-gdpr:A6-1-c"),
    "vital_interests": ("dpv:VitalInterest", "eu-gdpr:A6-1-d"),
    "public_task": ("dpv:PublicInterest", "eu-gdpr:A6-1-e"),
    "legitimate_interests": ("dpv:LegitimateInterest", "eu-gdpr:A6-1-f"),
}


def _linked(register: dict[str, Any]) -> dict[str, Any]:
    lang = register["lang"]

    def text(value: str) -> dict[str, str]:
        return {"@value": value, "@language": lang}

    controller = {
        "@type": "dpv:DataController",
        "dct:title": register["controller"]["name"],
        "dct:description": _who(register["controller"]),
    }
    measures = [
        {"@type": "dpv:TechnicalOrganisationalMeasure", "dct:description": text(m["description"])}
        for m in register["security_measures"]
    ]
    graph = []
    for a in register["activities"]:
        term, article = _BASES[a["legal_basis"]["basis"]]
        node: dict[str, Any] = {
            "@id": f"urn:tutela:activity:{a['reference']}",
            "@type": "dpv:Process",
            "dct:identifier": a["reference"],
            "dct:title": text(a["name"]),
            "dct:modified": a["updated"].isoformat(),
            "dpv:hasDataController": controller,
            "dpv:hasPurpose": {
                "@type": a["dpv"] or "dpv:Purpose",
                "dct:description": text(a["name"]),
            },
            "dpv:hasLegalBasis": [{"@id": term}, {"@id": article}],
            "dpv:hasPersonalData": [
                {"@id": c["dpv"]} if c["dpv"] else {"dct:title": text(c["name"])}
                for c in a["data_categories"]
            ],
            "dpv:hasDataSubject": [
                {"@id": k["dpv"]}
                if k["dpv"]
                else {"@type": "dpv:DataSubject", "dct:title": text(k["name"])}
                for k in a["data_subjects"]
            ],
            "dpv:hasRecipient": [
                {"@type": "dpv:Recipient", "dct:title": text(r["name"])} for r in a["recipients"]
            ],
            "dpv:hasDataProcessor": [
                {"@type": "dpv:DataProcessor", "dct:title": text(s["name"])}
                for s in a["subprocessors"]
            ],
            "dpv:hasStorageCondition": [
                {
                    "@type": "dpv:StorageDuration",
                    "dpv:hasDuration": {
                        "@type": "dpv:Duration",
                        "rdf:value": f"P{e['total_months']}M",
                    },
                    "dct:description": text(f"{c['name']}{word('colon', lang)}{e['words']}"),
                }
                for c in a["data_categories"]
                for e in c["erasure"]
            ],
            "dpv:hasTechnicalOrganisationalMeasure": measures,
        }
        if a["sources"]:
            node["dpv:hasDataSource"] = [
                {"@type": "dpv:DataSource", "dct:title": text(s["name"])} for s in a["sources"]
            ]
        if a["dpia"] and a["dpia"]["required"]:
            node["dpv:hasOrganisationalMeasure"] = {
                "@type": "eu-gdpr:DPIA",
                "dct:description": text(a["dpia"]["reason"]),
            }
        graph.append(node)
    return {
        "@context": CONTEXT,
        "@id": f"urn:tutela:register:{register['policy_version']}",
        "dct:title": text(register["title"]),
        "dct:hasVersion": register["policy_version"],
        "@graph": graph,
    }
