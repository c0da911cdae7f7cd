"""Documents for people to open: spreadsheet cells that never run, and PDF rendered from the
same HTML page the browser shows, with nothing fetched from anywhere."""

from __future__ import annotations

import json

from jinja2 import Environment, PackageLoader, select_autoescape

__all__ = ["FORMULA_STARTS", "csv_cell", "pdf", "templates"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets run as a formula


def csv_cell(value: object) -> str:
    """A CSV cell no spreadsheet runs as a formula: such text is quoted as text."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def templates(package: str) -> Environment:
    """The templates of a package's `templates` folder, HTML autoescaped."""
    return Environment(
        loader=PackageLoader(package, "templates"), autoescape=select_autoescape(["html"])
    )


def pdf(page: str) -> bytes:
    """The HTML page as PDF (WeasyPrint); a page that names a resource fails rather than
    fetching it."""
    from weasyprint import HTML  # loads Pango: only when a PDF is asked for

    def nothing(url: str, *args, **kwargs):
        raise ValueError(f"no resource is fetched for a document ({url.split(':', 1)[0]})")

    return HTML(string=page, url_fetcher=nothing).write_pdf()
