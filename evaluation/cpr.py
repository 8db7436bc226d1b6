"""CPR number structure (DESIGN.md section 3), vectorised over numpy arrays.

Digits 1-6 are the birth date DDMMYY; digit 7 with the two-digit year gives the century; the last
digit is odd for men and even for women. The modulus-11 check is *not* used to reject numbers: the
CPR Office has issued numbers without it since October 2007 and asks systems to accept them.

Nothing here logs or returns a CPR number in a message; :func:`mask` is the one function every
message, log line and output name passes through, so that no spelling the parser accepts (blanks
and hyphens anywhere between the digits) survives in one.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa

#: Reasons a CPR number cannot be used, as they appear in quarantine listings.
MALFORMED = "malformed_cpr"  # not 10 digits after removing a hyphen and spaces
INVALID_DATE = "invalid_cpr_birth_date"  # digits 1-6 with the century are not a real date
MISSING = "missing_cpr"


# The blanks Python's ``str.isspace`` knows, written for RE2, plus the hyphen.
_BLANKS_AND_HYPHEN = r"[\t\n\x{0B}\f\r\x{1C}-\x{1F}\x{85}\p{Z}\-]"
# The same blanks and hyphen for Python's ``re`` (``\s`` is ``str.isspace``; a test checks that
# every character the parser removes is a separator here).
_SEPARATORS = r"[\s\-\u2028\u2029]"
#: Most separator characters between two digits of one number in :func:`mask` ("050507 - 8724"
#: has three). Wider gaps end a number, so columns of counts in a printed table stay readable;
#: values from the data are checked with no such limit (:func:`contains_cpr`).
MASK_GAP = 3
# A run of digits joined by blanks and hyphens; masked when it holds at least MASK_DIGITS digits.
_DIGIT_RUN = re.compile(rf"[0-9](?:{_SEPARATORS}{{0,{MASK_GAP}}}[0-9])*")
_ANY_GAP_RUN = re.compile(rf"[0-9](?:{_SEPARATORS}*[0-9])*")
#: Fewest digits in a run that :func:`mask` hides: nine, because a CPR number that lost its
#: leading zero in a spreadsheet is still one.
MASK_DIGITS = 9
#: What :func:`mask` puts in place of a hidden number.
MASKED = "<number hidden>"
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _arrow_text(values: pd.Series | np.ndarray | list | pa.Array) -> pa.Array:
    """Values as one Arrow string array (null where missing; other values as ``str`` gives)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else values.cast(pa.string())
    if isinstance(values, pd.Series) and hasattr(values.array, "__arrow_array__"):
        return _arrow_text(pa.array(values.array))
    s = pd.Series(values, dtype="object")
    text = s.astype(str).to_numpy(dtype=object)
    text[s.isna().to_numpy()] = None
    return pa.array(text, type=pa.string())


def _normalised(values: pd.Series | np.ndarray | list | pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    return pc.replace_substring_regex(_arrow_text(values), _BLANKS_AND_HYPHEN, "")


def normalise(values: pd.Series | np.ndarray | list) -> np.ndarray:
    """Remove a hyphen and spaces; return an object array of strings (``None`` where missing)."""
    return _normalised(values).to_numpy(zero_copy_only=False).astype(object)


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    digits = sum(ch.isdigit() for ch in run)
    return MASKED if digits >= MASK_DIGITS else run


def mask(text: object) -> str:
    """``text`` with every number that could be a CPR number hidden.

    Any run of digits joined by blanks and hyphens (the spellings :func:`parse` accepts:
    ``0505078724``, ``050507-8724``, ``05 05 07 8724``, ``05-05-07-8724``, ``050507 - 8724``, with
    any Unicode blank, at most :data:`MASK_GAP` of them between two digits) that holds
    :data:`MASK_DIGITS` or more digits becomes :data:`MASKED`. Dates (``2026-09-30``), row
    numbers and counts are left as they are. A value quoted from the data is checked with
    :func:`contains_cpr` as well, which knows no gap limit.
    """
    return _DIGIT_RUN.sub(_mask_run, str(text))


def contains_cpr(values: pd.Series | np.ndarray | list | pa.Array) -> np.ndarray:
    """Per value: does it hold, anywhere in it, a number :func:`parse` accepts as a CPR number?

    The whole value is tried, and every run of digits joined by blanks and hyphens inside it
    (``case 050507-8724/2``). A run of more than ten digits counts when any ten consecutive
    digits of it are a valid CPR number. Vectorised over distinct values.
    """
    import pyarrow.compute as pc

    text = _arrow_text(values)
    n = len(text)
    found = np.zeros(n, dtype=bool)
    if n == 0:
        return found
    runs = pc.extract_regex(text, r"(?P<run>[0-9](?:[\t\n\x{0B}\f\r\x{1C}-\x{1F}\x{85}\p{Z}\-]*[0-9]){9,})")
    has_run = np.asarray(pc.fill_null(pc.is_valid(runs), False), dtype=bool)
    if not has_run.any():
        return found
    # Values with a long run: check every ten-digit window of every run (few values in practice).
    idx = np.flatnonzero(has_run)
    sub = text.take(pa.array(idx)).to_pylist()
    windows: list[str] = []
    owner: list[int] = []
    for i, value in zip(idx, sub):
        for run in _ANY_GAP_RUN.findall(value):
            digits = "".join(ch for ch in run if ch.isdigit())
            for start in range(max(0, len(digits) - 9)):
                windows.append(digits[start:start + 10])
                owner.append(int(i))
    if windows:
        ok = np.equal(parse(windows)["reason"].to_numpy(dtype=object), None)
        found[np.asarray(owner, dtype=np.int64)[ok]] = True
    return found


def century(year2: np.ndarray, digit7: np.ndarray) -> np.ndarray:
    """Century (1800, 1900 or 2000) from the two-digit year and digit 7 (CPR Office table)."""
    year2 = np.asarray(year2)
    digit7 = np.asarray(digit7)
    c = np.full(year2.shape, 1900, dtype=np.int32)
    c = np.where(((digit7 == 4) | (digit7 == 9)) & (year2 <= 36), 2000, c)
    five_to_eight = (digit7 >= 5) & (digit7 <= 8)
    c = np.where(five_to_eight & (year2 <= 57), 2000, c)
    c = np.where(five_to_eight & (year2 >= 58), 1800, c)
    return c


def parse(values: pd.Series | np.ndarray | list | pa.Array) -> pd.DataFrame:
    """Parse CPR numbers into birth date and sex.

    Returns a frame aligned with the input: ``cpr`` (normalised, or None), ``birth_date``
    (datetime64, NaT where unusable), ``sex`` ('M'/'F', None where unusable) and ``reason``
    (None where usable, else one of :data:`MISSING`, :data:`MALFORMED`, :data:`INVALID_DATE`).
    Vectorised in Arrow and numpy: it runs on every distinct value of every extract.
    """
    import pyarrow.compute as pc

    norm = _normalised(values)
    n = len(norm)
    missing = np.asarray(pc.fill_null(pc.equal(pc.utf8_length(norm), 0), True), dtype=bool)
    well = np.asarray(pc.fill_null(pc.match_substring_regex(norm, r"^[0-9]{10}$"), False), dtype=bool)
    reason = np.full(n, None, dtype=object)
    reason[missing] = MISSING
    reason[~missing & ~well] = MALFORMED
    birth = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    sex = np.full(n, None, dtype=object)
    idx = np.flatnonzero(well)
    if len(idx):
        ten = pc.filter(norm, pa.array(well)).cast(pa.large_string())
        offsets = np.frombuffer(ten.buffers()[1], dtype=np.int64)[ten.offset: ten.offset + len(ten) + 1]
        data = np.frombuffer(ten.buffers()[2], dtype=np.uint8)
        digits = data[offsets[0]: offsets[-1]].reshape(-1, 10).astype(np.int64) - 48
        dd = digits[:, 0] * 10 + digits[:, 1]
        mm = digits[:, 2] * 10 + digits[:, 3]
        yy = digits[:, 4] * 10 + digits[:, 5]
        year = century(yy, digits[:, 6]).astype(np.int64) + yy
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        valid_month = (mm >= 1) & (mm <= 12)
        last_day = _DAYS_IN_MONTH[np.where(valid_month, mm, 0)] + ((mm == 2) & leap)
        real = valid_month & (dd >= 1) & (dd <= last_day)
        reason[idx[~real]] = INVALID_DATE
        good = idx[real]
        months = (year[real] - 1970) * 12 + (mm[real] - 1)
        birth[good] = months.astype("datetime64[M]").astype("datetime64[D]") + (dd[real] - 1)
        sex[good] = np.where(digits[real, 9] % 2 == 1, "M", "F")
    return pd.DataFrame({
        "cpr": norm.to_numpy(zero_copy_only=False).astype(object),
        "birth_date": birth.astype("datetime64[ns]"),
        "sex": sex,
        "reason": reason,
    })


def generate(
    birth_dates: np.ndarray, sexes: np.ndarray, rng: np.random.Generator, *, hyphen: bool = True
) -> np.ndarray:
    """Synthetic, unique CPR numbers with a valid structure for the given birth dates and sexes.

    Birth years must lie in 1900-2036. Digit 7 is drawn so that the century rule gives the right
    year; the last digit has the sex's parity. The modulus-11 check is not imposed.
    """
    bd = pd.DatetimeIndex(birth_dates)
    n = len(bd)
    year = bd.year.to_numpy()
    if n and (year.min() < 1900 or year.max() > 2036):
        raise ValueError("synthetic CPR numbers need birth years in 1900-2036")
    yy = year % 100
    is_male = np.asarray(sexes) == "M"
    prefix = (
        pd.Series(bd.day, dtype="int64").map("{:02d}".format).to_numpy(dtype=object)
        + pd.Series(bd.month, dtype="int64").map("{:02d}".format).to_numpy(dtype=object)
        + pd.Series(yy, dtype="int64").map("{:02d}".format).to_numpy(dtype=object)
    )
    choices_2000 = np.array([4, 5, 6, 7, 8, 9])
    out = np.empty(n, dtype=object)
    todo = np.arange(n)
    seen: set[str] = set()
    while len(todo):
        m = len(todo)
        d7 = np.where(
            year[todo] >= 2000, choices_2000[rng.integers(0, 6, m)], rng.integers(0, 4, m)
        )
        mid = rng.integers(0, 100, m)
        last = rng.integers(0, 5, m) * 2 + is_male[todo].astype(int)
        seq = d7 * 1000 + mid * 10 + last
        cand = prefix[todo] + pd.Series(seq).map("{:04d}".format).to_numpy(dtype=object)
        cand_s = pd.Series(cand)
        dup = cand_s.duplicated().to_numpy() | cand_s.isin(seen).to_numpy()
        keep = todo[~dup]
        out[keep] = cand[~dup]
        seen.update(cand[~dup].tolist())
        todo = todo[dup]
    if hyphen:
        s = pd.Series(out, dtype="object")
        out = (s.str[:6] + "-" + s.str[6:]).to_numpy(dtype=object)
    return out
