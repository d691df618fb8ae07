"""What a person downloads: CSV cells that cannot run as formulas, file names that cannot break headers.

Every CSV a person may open in a spreadsheet is written through :func:`writer`, :class:`DictWriter`
or :func:`safe_frame`, and every download names its file through :func:`content_disposition`.

CSV injection (OWASP "CSV Injection"): a text cell whose first character is ``=``, ``+``, ``-``
or ``@`` (also after leading whitespace), or a tab or carriage return, gets a single quote in
front, so Excel, LibreOffice and WPS show it as text instead of evaluating it. Numbers are not
text: ``Decimal("-12.50")`` and the string ``"-12.50"`` (a plain decimal number, nothing else in
the cell) stay as they are, so negative amounts remain numbers in the sheet; ``"-1+1"`` or
``"-12.50 "`` are not plain numbers and are escaped. The quote is visible to programs that read
the file back; that is the price OWASP accepts.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from decimal import Decimal
from typing import Any, Iterable, Mapping
from urllib.parse import quote

FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet may show it without evaluating it (numbers and None unchanged)."""
    if not isinstance(value, str):
        return value
    if value[:1] in CONTROL_STARTS or value.lstrip()[:1] in FORMULA_STARTS:
        if _PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


class _SafeWriter:
    """``csv.writer`` whose rows pass through :func:`safe_cell`."""

    def __init__(self, out, **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out, **kwargs) -> _SafeWriter:
    """Like ``csv.writer(out, **kwargs)``, with every cell neutralised."""
    return _SafeWriter(out, **kwargs)


class DictWriter(csv.DictWriter):
    """Like ``csv.DictWriter``, with every cell neutralised."""

    def writerow(self, rowdict: Mapping[str, Any]):
        return super().writerow({k: safe_cell(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)


def safe_frame(frame):
    """A copy of a pandas DataFrame whose text cells (and column names) are neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(safe_cell)
    out.columns = [safe_cell(c) for c in out.columns]
    return out


# ---------------------------------------------------------------- file names

_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\'\\/:;*?<>|`%]+')
_NOT_ASCII_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_LEADING = "=+-@ .\t_"
MAX_NAME = 150


def _trim(name: str, default: str) -> str:
    name = name.lstrip(_LEADING).rstrip(" .")
    if not name or name.startswith("."):
        return default
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name


def safe_filename(name: str, default: str = "download") -> str:
    """A file name that cannot break a header or a path: no quotes, CR/LF, control characters or
    path separators (each run becomes ``_``), no leading formula characters, dots or spaces."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = "".join(c if unicodedata.category(c)[0] != "C" else "_" for c in name)
    return _trim(_UNSAFE_NAME.sub("_", name), default)


def ascii_filename(name: str, default: str = "download") -> str:
    """The ASCII fallback of a (safe) file name: accents dropped, other characters as ``_``."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = _NOT_ASCII_NAME.sub("_", plain)
    stem = plain.rsplit(".", 1)[0]
    if not stem.strip("_"):
        ext = plain.rsplit(".", 1)[1] if "." in plain else ""
        plain = f"{default}.{ext}" if ext else default
    return _trim(plain, default)


def content_disposition(name: str, inline: bool = False) -> str:
    """``Content-Disposition`` for a download: an ASCII ``filename`` for old clients and the
    UTF-8 name as RFC 5987 ``filename*`` (which browsers prefer)."""
    safe = safe_filename(name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_filename(safe)}\"; filename*=UTF-8''{quote(safe, safe='')}"


def attach(response, name: str, inline: bool = False):
    """Name the file of ``response`` (built by ``send_file`` or ``Response``); returns the response."""
    response.headers["Content-Disposition"] = content_disposition(name, inline)
    return response
