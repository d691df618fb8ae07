"""Validation of the real identifiers the platform accepts.

- 统一社会信用代码 (unified social credit code), GB 32100-2015
- 居民身份证号 (resident identity number), GB 11643-1999
- GTIN-14 and the GS1 AI 10 / AI 21 character set (GS1 General Specifications)

python-stdnum does the arithmetic: the check characters (``cn.uscc``, ``cn.ric``, ``ean``), the
birth date of a resident ID (``cn.ric.get_birth_date``) and the whole GTIN check (``ean.validate``).
Two of its whole-number checks are not used, because they refuse numbers this platform must take:

- ``cn.uscc.validate`` wants digits in positions 1-2, but GB 32100 registration authority ``N``
  (agriculture) issues codes such as ``N2...`` to village collective economic organisations;
- ``cn.ric.validate`` also checks the birth place against today's county list for the birth year,
  and refuses e.g. a Guangfeng number ``361103`` (a district code since 2015) of someone born before,
  which the district's own records hold (``tests/core/test_identifiers.py`` shows both).

So the accepted shapes, the birth-date range and the messages stay here.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

from stdnum import ean
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from greenfin.errors import N_
from greenfin.dates import today

# GB 32100-2015: 31 characters, no I, O, S, V, Z.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")

# GS1 AI 82 character set (GS1 General Specifications, figure 7.11-1).
GS1_AI82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")


class InvalidIdentifier(ValueError):
    """The value breaks the identifier's format or check character."""


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 check character of the first 17 characters."""
    return uscc.calc_check_digit(first17)


def normalise_uscc(value: str) -> str:
    """Return the code upper-cased, or raise InvalidIdentifier naming the fault."""
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise InvalidIdentifier(N_("must be 18 characters"))
    if not _USCC_SHAPE.match(code):
        raise InvalidIdentifier(N_("contains characters outside GB 32100 (no I, O, S, V, Z; digits 3-8 are the division code)"))
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidIdentifier(N_("check character does not match (GB 32100-2015)"))
    return code


def id_check_char(first17: str) -> str:
    """GB 11643-1999 check character of the first 17 digits (stdnum wants a placeholder 18th)."""
    return ric.calc_check_digit(first17 + "0")


def normalise_resident_id(value: str) -> str:
    number = (value or "").strip().upper()
    if not _ID_SHAPE.match(number):
        raise InvalidIdentifier(N_("must be 17 digits followed by a digit or X"))
    try:
        birth = ric.get_birth_date(number)
    except ValidationError:
        raise InvalidIdentifier(N_("birth date is not a real date")) from None
    if not date(1900, 1, 1) <= birth <= today():
        raise InvalidIdentifier(N_("birth date is out of range"))
    if id_check_char(number[:17]) != number[17]:
        raise InvalidIdentifier(N_("check digit does not match (GB 11643-1999)"))
    return number


def mask_resident_id(number: str) -> str:
    """Show the first three and last four characters only (PIPL minimisation)."""
    return number[:3] + "*" * 11 + number[-4:]


def hash_resident_id(number: str, key: str) -> str:
    """Keyed hash for look-up and uniqueness; the plain number is never stored."""
    return hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()


def gtin_check_digit(body: str) -> str:
    """GS1 mod-10 check digit for the digits before it (any GTIN length, SSCC too)."""
    return ean.calc_check_digit(body)


def normalise_gtin14(value: str) -> str:
    """Accept GTIN-8/12/13/14, return GTIN-14 (left-padded), or raise."""
    digits = (value or "").strip()
    try:
        if not digits.isdigit():  # stdnum would drop spaces and dashes; a scanned GTIN has none
            raise ValidationError()
        return ean.validate(digits).zfill(14)
    except InvalidChecksum:
        raise InvalidIdentifier(N_("check digit does not match (GS1 mod 10)")) from None
    except ValidationError:
        raise InvalidIdentifier(N_("must be 8, 12, 13 or 14 digits")) from None


def validate_gs1_ai82(value: str, max_length: int = 20) -> str:
    """Lot (AI 10) and serial (AI 21) values: 1..20 characters of the AI 82 set."""
    if not value or len(value) > max_length:
        raise InvalidIdentifier(f"must be 1 to {max_length} characters")
    bad = sorted(set(value) - GS1_AI82)
    if bad:
        raise InvalidIdentifier("characters outside the GS1 AI 82 set: " + "".join(bad))
    return value
