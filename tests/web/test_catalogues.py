"""Every word a console or portal page shows has its French translation in the catalogue."""

from importlib import resources

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po


def test_every_word_of_the_templates_is_translated():
    templates = resources.files("tutela.web").joinpath("templates")
    used = {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(templates),
            method_map=[("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        )
    }
    assert len(used) > 20
    path = resources.files("tutela.web").joinpath("locale/fr/LC_MESSAGES/messages.po")
    with path.open("rb") as handle:
        catalogue = {m.id: m.string for m in read_po(handle) if m.id}
    assert sorted(m for m in used if not catalogue.get(m)) == []
    assert sorted(set(catalogue) - used) == []  # no stale entry
