"""Reading and preparing scorecard training data: CSV reading (separator and encoding sniffed),
number parsing, column type detection, the target vector and the cleaned feature frame."""
from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Optional

import numpy as np
import pandas as pd

ID_NAME = re.compile(r"(^|[_\s-])(id|no|nr|num|number|uuid|key|code|编号|序号)$|^(id|uuid)$|^(loan|app|application|customer|client)_?(id|no|number)", re.I)
BAD_WORDS = {"bad", "1", "yes", "y", "true", "default", "defaulted", "d", "违约", "坏", "是", "逾期"}
# Thousands separators, spaces and currency signs are dropped before parsing a number.
NUMBER_NOISE = r"[,，\s¥￥$]"

# Text that is a truth value reads as the number a boolean cell is (True -> 1, False -> 0).
TRUTH_WORDS = {"true": 1.0, "false": 0.0}


def parse_numbers(text: pd.Series) -> pd.Series:
    """Text cells as floats: '12,345', ' 7 ', '¥300' parse, 'True'/'false' are 1/0; anything else is NaN."""
    cleaned = text.astype("string").str.replace(NUMBER_NOISE, "", regex=True)
    numbers = pd.to_numeric(cleaned, errors="coerce").astype(float)
    truth = cleaned.str.lower().map(TRUTH_WORDS, na_action="ignore").astype(float)
    return numbers.fillna(truth)


# Points are kept on this grid (multiples of 2**-36, about 1.5e-11 points): numbers on it add up
# exactly in any order while the sums stay below 2**16, so a score does not depend on the order
# its points are added in (the fast path reads several features' points from one joint table).
GRID = 2.0 ** -36


def on_grid(value: float) -> float:
    """``value`` rounded to the nearest multiple of ``GRID`` (scaling by a power of 2 is exact)."""
    return float(np.rint(value / GRID) * GRID)


NUMBER_TYPES = (bool, np.bool_, int, float, Decimal, np.number)


def cell_numbers(cells) -> np.ndarray:
    """The one reading of numeric cells, used by training and scoring alike; each cell is read
    on its own, whatever its neighbours: None/NaN -> NaN, booleans -> 1/0, numbers as they are,
    anything else as text by ``parse_numbers``."""
    out = np.full(len(cells), np.nan)
    text = {}
    for i, cell in enumerate(cells):
        if isinstance(cell, NUMBER_TYPES):
            out[i] = float(cell)
        elif cell is not None and cell is not pd.NA and cell is not pd.NaT:
            text[i] = str(cell)
    if text:
        out[list(text)] = parse_numbers(pd.Series(list(text.values()), dtype=object)).to_numpy(dtype=float)
    return out


def numeric_values(raw) -> np.ndarray:
    """Raw cells of a numeric feature as float64 (NaN = missing); no copy for float64 input.

    Arrays of numbers (and booleans) convert directly; anything else (object arrays from a CSV,
    a JSON body or a mixed frame) is read by ``cell_numbers`` once per distinct value.
    """
    raw = np.asarray(raw)
    if raw.dtype.kind in "fiub":
        return raw.astype(float, copy=False)
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    return np.append(cell_numbers(uniques), np.nan)[codes]


class TrainingError(ValueError):
    """Input that cannot be trained on (names the problem)."""


# ---------------------------------------------------------------- preparing data


def detect_columns(frame: pd.DataFrame, target: str) -> tuple[dict[str, str], dict[str, str]]:
    """Return ({column: 'numeric'|'categorical'}, {ignored column: why})."""
    kinds, ignored = {}, {}
    n = len(frame)
    for col in frame.columns:
        if col == target:
            continue
        raw = frame[col]
        text = raw.astype("string").str.strip()
        present = text.notna() & (text != "")
        count = int(present.sum())
        if count == 0:
            ignored[col] = "empty"
            continue
        values = text[present]
        unique = values.nunique()
        if unique <= 1:
            ignored[col] = "constant"
            continue
        numbers = parse_numbers(values)
        numeric = numbers.notna().mean() >= 0.95
        unique_share = unique / count
        if ID_NAME.search(str(col)) and unique_share > 0.9:
            ignored[col] = "id-like name with unique values"
            continue
        if not numeric and _looks_like_dates(values):
            ignored[col] = "date"
            continue
        if not numeric and unique_share > 0.5 and unique > 50:
            ignored[col] = "text with nearly unique values"
            continue
        if numeric and unique == count and n > 50:
            diffs = np.diff(numbers.to_numpy(dtype=float))
            if np.all(diffs > 0) or np.all(diffs < 0):
                ignored[col] = "running number"
                continue
        kinds[col] = "numeric" if numeric else "categorical"
    return kinds, ignored


# Protected attributes: never a reason for a credit decision (China's Law on the Protection of
# Women's Rights and Interests forbids discrimination by sex in credit). A column is protected when
# its name says so, or when most of its cells carry a word that reveals the attribute.
PROTECTED = {
    "sex": (r"(^|[^a-z])(sex|gender)([^a-z]|$)|性别",
            {"female", "male", "woman", "man", "women", "men", "女", "男", "女性", "男性"}),
    "marital_status": (r"marital|marriage|(^|[^a-z])married|personal_status|婚",
                       {"single", "married", "divorced", "widowed", "separated", "mar", "div", "wid", "sep",
                        "未婚", "已婚", "离异", "离婚", "丧偶", "单身"}),
    "ethnicity": (r"ethnic|(^|[^a-z])race([^a-z]|$)|民族",
                  {"han", "汉", "汉族", "壮族", "回族", "满族", "维吾尔族", "苗族", "彝族", "土家族", "藏族", "蒙古族", "畲族"}),
    "religion": (r"religio|faith|宗教|信仰",
                 {"christian", "muslim", "buddhist", "hindu", "jewish", "catholic", "佛教", "基督教", "伊斯兰教", "道教",
                  "天主教"}),
}
DEFAULT_PROTECTED = tuple(PROTECTED)
PROTECTED_SHARE = 0.6  # share of a column's cells that must reveal the attribute


def protected_columns(frame: pd.DataFrame, target: str, attributes=DEFAULT_PROTECTED) -> dict[str, str]:
    """{column: attribute} of the columns of ``frame`` that reveal a protected attribute, by name
    or by values. ``attributes`` names keys of ``PROTECTED``; any other entry is a column name
    protected as it is."""
    found = {}
    for col in frame.columns:
        if col == target:
            continue
        name = str(col).strip().lower()
        text = frame[col].astype("string").str.strip().str.lower()
        text = text[text.notna() & (text != "")]
        counts = text.value_counts()
        for attribute in attributes:
            if attribute not in PROTECTED:
                if name == str(attribute).strip().lower():
                    found[col] = str(attribute)
                    break
                continue
            pattern, words = PROTECTED[attribute]
            if re.search(pattern, name, re.I):
                found[col] = attribute
                break
            if len(counts) and not pd.api.types.is_numeric_dtype(frame[col].dtype):
                hits = [value for value in counts.index
                        if value in words or set(re.split(r"[^a-z\u4e00-\u9fff]+", value)) & words]
                if counts[hits].sum() >= PROTECTED_SHARE * counts.sum():
                    found[col] = attribute
                    break
    return found


def _looks_like_dates(values: pd.Series) -> bool:
    sample = values.head(200)
    if not sample.str.contains(r"^\d{4}[-/.]\d{1,2}", regex=True).mean() >= 0.95:
        return False
    return pd.to_datetime(sample, errors="coerce", format="mixed").notna().mean() >= 0.95


def target_vector(frame: pd.DataFrame, target: str, bad_value: Optional[str]) -> pd.Series:
    """1 for bad, 0 for good, NaN where the target is empty."""
    if target not in frame.columns:
        raise TrainingError(f"target column '{target}' is not in the CSV (columns: {', '.join(map(str, frame.columns[:20]))})")
    text = frame[target].astype("string").str.strip()
    text = text.mask(text == "")
    present = text.dropna()
    if present.empty:
        raise TrainingError(f"target column '{target}' is empty")
    if bad_value is not None:
        y = (text == str(bad_value).strip()).astype(float)
        if not (present == str(bad_value).strip()).any():
            raise TrainingError(f"bad value '{bad_value}' does not occur in column '{target}' "
                                f"(values: {', '.join(sorted(present.unique())[:10])})")
    else:
        values = sorted(present.unique())
        if len(values) == 1:
            raise TrainingError(f"target column '{target}' has one class only ('{values[0]}'): nothing to learn")
        if len(values) > 2:
            raise TrainingError(f"target column '{target}' has {len(values)} values; name the bad one with --bad-value")
        bad = [v for v in values if v.lower() in BAD_WORDS]
        if len(bad) != 1:
            raise TrainingError(f"cannot tell which of {values} is bad in '{target}'; use --bad-value")
        y = (text == bad[0]).astype(float)
    y[text.isna()] = np.nan
    return y


def clean_features(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Numeric columns as float (unparseable -> NaN), categoricals as stripped strings."""
    out = {}
    for col, kind in kinds.items():
        if col not in frame.columns:
            out[col] = pd.Series(np.nan, index=frame.index, dtype=float if kind == "numeric" else object)
            continue
        if kind == "numeric":  # read as scoring reads it
            out[col] = pd.Series(numeric_values(frame[col].to_numpy()), index=frame.index)
        else:
            text = frame[col].astype("string").str.strip()
            out[col] = text.mask(text == "").astype(object).where(text.notna() & (text != ""), None)
    return pd.DataFrame(out, index=frame.index)


# ---------------------------------------------------------------- reading CSV


SEPARATORS = ",;\t|"  # what loan books use; unrestricted, the sniffer may take a letter of the header


def _sniff_separator(path: str | bytes, encoding: str) -> Optional[str]:
    """The separator of the CSV's header line (None if csv.Sniffer cannot tell)."""
    if isinstance(path, bytes):
        first = path.split(b"\n", 1)[0]
    else:
        with open(path, "rb") as fh:
            first = fh.readline()
    try:
        return csv.Sniffer().sniff(first.decode(encoding), delimiters=SEPARATORS).delimiter
    except csv.Error:
        return None


def csv_label(path: str | bytes) -> str:
    """How read_csv's errors name their input."""
    return "the file" if isinstance(path, bytes) else str(path)


def read_csv(path: str | bytes) -> pd.DataFrame:
    """Read a loan-book CSV (a path, or an upload's bytes) leniently: every cell as text, BOMs,
    GB18030 and odd separators tolerated.

    The separator (comma, semicolon, tab or bar) is sniffed from the header line and the file read by
    the C engine (about 4x faster than pandas' python engine with its own sniffing: 0.22 against
    1.07 s for 100,000 applicants); what the C engine cannot parse goes to the python engine."""
    def source():
        return io.BytesIO(path) if isinstance(path, bytes) else path  # each attempt from the start

    def attempt(encoding: str) -> pd.DataFrame:
        options = {"dtype": str, "keep_default_na": True, "encoding": encoding, "on_bad_lines": "skip"}
        separator = _sniff_separator(path, encoding)
        if separator is not None:
            try:
                return pd.read_csv(source(), sep=separator, engine="c", **options)
            except pd.errors.ParserError:
                pass
        return pd.read_csv(source(), sep=None, engine="python", **options)

    try:
        try:
            return attempt("utf-8-sig")
        except UnicodeDecodeError:
            return attempt("gb18030")
    except (pd.errors.EmptyDataError, csv.Error) as exc:
        raise TrainingError(f"{csv_label(path)} is empty or not a CSV ({exc})")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise TrainingError(f"{csv_label(path)} cannot be read as a CSV ({exc})")
