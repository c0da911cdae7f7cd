"""The console's and portal's words in English and French, from Babel message catalogues
(`locale/<lang>/LC_MESSAGES/messages.po`, read as they are: no compile step to run), and the
Jinja environment of each language."""

from __future__ import annotations

from functools import cache
from importlib import resources

from babel.messages.pofile import read_po
from jinja2 import Environment, PackageLoader, select_autoescape

__all__ = ["LANGUAGES", "choose", "environment", "gettext"]

LANGUAGES = ("en", "fr")  # English is the templates' own


@cache
def _catalog(lang: str) -> dict[str, str]:
    if lang == LANGUAGES[0]:
        return {}
    path = resources.files("tutela.web").joinpath(f"locale/{lang}/LC_MESSAGES/messages.po")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


def gettext(lang: str, message: str) -> str:
    return _catalog(lang).get(message, message)


@cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=PackageLoader("tutela.web", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(
        lambda message: gettext(lang, message),
        lambda singular, plural, n: gettext(lang, singular if n == 1 else plural),
        newstyle=True,
    )
    env.globals["lang"] = lang
    return env


def choose(query: str | None, cookie: str | None, accept: str | None) -> str:
    """The page's language: asked for, remembered, or the browser's first we have."""
    for asked in (query, cookie):
        if asked in LANGUAGES:
            return asked
    for part in (accept or "").split(","):
        primary = part.split(";")[0].strip().split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return LANGUAGES[0]
