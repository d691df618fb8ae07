"""The one home of display labels: every code a person sees goes through ``label(enumeration, code)``.

Codes (``danan``, ``orchard``, ``KGM``, ``commissioning``, ``a4-3x8``...) are what the database,
the API and machine files hold; people read labels. Each package declares the labels of its own
enumerations once, in its ``labels.py``, with ``declare(name, {code: (zh, en)})`` (or a lazy
gettext string when the label also lives in the package's catalogue). Pages use the Jinja global
``label('township', code)``; PDFs and CSV files meant for people call ``label`` (current locale),
``label_in(name, code, "zh")`` or ``label_pair`` (both languages, no request needed).

A code with no declared label is shown as it is: ``tests/test_page_crawl.py`` renders every page
of every role and fails on such a code, so a missing label is found before a person sees it.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Optional, Union

from flask import current_app, has_app_context, has_request_context

Label = Union[tuple, object]  # (zh, en) or a lazy gettext string

_CATALOGUE: dict[str, dict[str, Label]] = {}
_OTHER_LANGUAGE: dict[tuple, str] = {}


def declare(enumeration: str, labels: Mapping[str, Label]) -> Mapping[str, Label]:
    """Declare (or extend) the labels of an enumeration; returns ``labels`` for the caller's use."""
    _CATALOGUE.setdefault(enumeration, {}).update(labels)
    return labels


def enumerations() -> dict[str, dict[str, Label]]:
    """Every declared enumeration with its labels (tests and the crawl read this)."""
    return {name: dict(labels) for name, labels in _CATALOGUE.items()}


def codes(enumeration: str) -> tuple[str, ...]:
    return tuple(_CATALOGUE.get(enumeration, {}))


def current_language() -> str:
    """``zh`` or ``en``: the language of this request; Chinese outside a request (the default)."""
    if has_request_context():
        from flask_babel import get_locale

        return "zh" if str(get_locale()).startswith("zh") else "en"
    return "zh"


def label_in(enumeration: str, code, language: str) -> str:
    """The label of ``code`` in ``language`` (``zh`` or ``en``); the code itself when undeclared."""
    if code is None or code == "":
        return ""
    entry = _CATALOGUE.get(enumeration, {}).get(str(code))
    if entry is None:
        return str(code)
    if isinstance(entry, tuple):
        return entry[0] if language == "zh" else entry[1]
    if not has_app_context():
        return str(entry)  # no catalogue loaded: the English msgid
    if has_request_context() and language == current_language():
        return str(entry)
    # The other language: switching the locale costs ~50 µs; catalogues do not change while an app
    # runs, so each label is worked out once per app and language.
    key = (id(current_app._get_current_object()), enumeration, str(code), language)
    text = _OTHER_LANGUAGE.get(key)
    if text is None:
        from flask_babel import force_locale

        with force_locale("zh_CN" if language == "zh" else "en"):
            text = _OTHER_LANGUAGE[key] = str(entry)
    return text


def label(enumeration: str, code, language: Optional[str] = None) -> str:
    """The label of ``code`` in the current language."""
    return label_in(enumeration, code, language or current_language())


def label_pair(enumeration: str, code) -> tuple[str, str]:
    """(zh, en) labels of ``code``, for bilingual PDFs and files."""
    return label_in(enumeration, code, "zh"), label_in(enumeration, code, "en")


def labels_of(enumeration: str, values: Iterable, language: Optional[str] = None, sep: str = "、") -> str:
    """Several codes of one enumeration as one text (``"吴村镇、丰溪街道"``)."""
    language = language or current_language()
    return sep.join(label_in(enumeration, v, language) for v in values)


def lazy_label(enumeration: str, code):
    """The label of ``code``, worked out when shown (a form built at import time, a module constant)."""
    from flask_babel import LazyString

    return LazyString(label, enumeration, code)


def choices(enumeration: str) -> list[tuple[str, object]]:
    """(code, lazy label) pairs in declaration order, for select fields."""
    return [(code, lazy_label(enumeration, code)) for code in codes(enumeration)]
