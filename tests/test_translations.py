"""Chinese first: every catalogue entry of every package has a translation."""
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(ROOT.glob("*/translations/*/LC_MESSAGES/messages.po")) + sorted(
    ROOT.glob("greenfin/*/translations/*/LC_MESSAGES/messages.po"))


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalogue_is_complete(path):
    with path.open("rb") as fh:
        catalogue = read_po(fh)
    untranslated = [m.id for m in catalogue if m.id and not m.string]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"


def test_core_catalogue_exists():
    assert ROOT / "greenfin/translations/zh/LC_MESSAGES/messages.po" in CATALOGUES
