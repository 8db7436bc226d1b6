"""CPR number structure (DESIGN.md section 3), vectorised over numpy arrays.

Digits 1-6 are the birth date DDMMYY; digit 7 with the two-digit year gives the century; the last
digit is odd for men and even for women. The modulus-11 check is *not* used to reject numbers: the
CPR Office has issued numbers without it since October 2007 and asks systems to accept them.

Nothing here logs or returns a CPR number in a message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

#: Reasons a CPR number cannot be used, as they appear in quarantine listings.
MALFORMED = "malformed_cpr"  # not 10 digits after removing a hyphen and spaces
INVALID_DATE = "invalid_cpr_birth_date"  # digits 1-6 with the century are not a real date
MISSING = "missing_cpr"


# The blanks Python's ``str.isspace`` knows, written for RE2, plus the hyphen.
_BLANKS_AND_HYPHEN = r"[\t\n\x{0B}\f\r\x{1C}-\x{1F}\x{85}\p{Z}\-]"
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
