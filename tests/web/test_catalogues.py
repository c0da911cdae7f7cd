"""Every word a console or portal page shows has its French translation in the catalogue:
the templates' words, and those the web package's Python draws itself (`gettext(lang, …)`,
such as the forecast chart's)."""

from importlib import resources

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po


def _words(folder: str, pattern: str, method: str, options: dict, keywords=None) -> set[str]:
    extracted = extract_from_dir(
        folder,
        method_map=[(pattern, method)],
        options_map={pattern: options},
        **({"keywords": keywords} if keywords else {}),
    )
    return {message for _, _, message, _, _ in extracted}


def test_every_word_of_the_templates_is_translated():
    web = resources.files("tutela.web")
    used = _words(
        str(web.joinpath("templates")), "**.html", "jinja2", {"extensions": "jinja2.ext.i18n"}
    )
    assert len(used) > 20
    drawn = _words(str(web), "*.py", "python", {}, keywords={"gettext": (2,)})
    assert "Month" in drawn  # the forecast chart's axis
    used |= drawn
    path = web.joinpath("locale/fr/LC_MESSAGES/messages.po")
    with path.open("rb") as handle:
        catalogue = {m.id: m.string for m in read_po(handle) if m.id}
    assert sorted(m for m in used if not catalogue.get(m)) == []
    assert sorted(set(catalogue) - used) == []  # no stale entry
