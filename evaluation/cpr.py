"""CPR number structure (DESIGN.md section 3), vectorised over numpy arrays.

Digits 1-6 are the birth date DDMMYY; digit 7 with the two-digit year gives the century; the last
digit is odd for men and even for women. The modulus-11 check is *not* used to reject numbers: the
CPR Office has issued numbers without it since October 2007 and asks systems to accept them.

Nothing here logs or returns a CPR number in a message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Reasons a CPR number cannot be used, as they appear in quarantine listings.
MALFORMED = "malformed_cpr"  # not 10 digits after removing a hyphen and spaces
INVALID_DATE = "invalid_cpr_birth_date"  # digits 1-6 with the century are not a real date
MISSING = "missing_cpr"


def normalise(values: pd.Series | np.ndarray | list) -> np.ndarray:
    """Remove a hyphen and spaces; return an object array of strings (``None`` where missing)."""
    s = pd.Series(values, dtype="object")
    missing = s.isna()
    out = s.astype(str).str.replace(r"[\s\-]", "", regex=True)
    out[missing] = None
    return out.to_numpy(dtype=object)


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


def parse(values: pd.Series | np.ndarray | list) -> pd.DataFrame:
    """Parse CPR numbers into birth date and sex.

    Returns a frame aligned with the input: ``cpr`` (normalised, or None), ``birth_date``
    (datetime64, NaT where unusable), ``sex`` ('M'/'F', None where unusable) and ``reason``
    (None where usable, else one of :data:`MISSING`, :data:`MALFORMED`, :data:`INVALID_DATE`).
    """
    norm = normalise(values)
    n = len(norm)
    strs = pd.Series(norm, dtype="object")
    missing = strs.isna().to_numpy() | (strs.fillna("") == "").to_numpy()
    well_formed = strs.fillna("").astype(str).str.fullmatch(r"[0-9]{10}").to_numpy(dtype=bool) & ~missing

    reason = np.full(n, None, dtype=object)
    reason[missing] = MISSING
    reason[~missing & ~well_formed] = MALFORMED

    birth = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    sex = np.full(n, None, dtype=object)
    if well_formed.any():
        wf = strs[well_formed].astype(str)
        digits = np.frombuffer("".join(wf.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 10) - 48
        dd = digits[:, 0] * 10 + digits[:, 1]
        mm = digits[:, 2] * 10 + digits[:, 3]
        yy = digits[:, 4] * 10 + digits[:, 5]
        year = century(yy, digits[:, 6]) + yy
        dates = pd.to_datetime(
            pd.DataFrame({"year": year, "month": mm, "day": dd}), errors="coerce"
        ).to_numpy()
        bad_date = np.isnat(dates)
        idx = np.flatnonzero(well_formed)
        reason[idx[bad_date]] = INVALID_DATE
        good = idx[~bad_date]
        birth[good] = dates[~bad_date]
        sex[good] = np.where(digits[~bad_date, 9] % 2 == 1, "M", "F")
    return pd.DataFrame(
        {"cpr": norm, "birth_date": birth, "sex": sex, "reason": reason}
    )


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
