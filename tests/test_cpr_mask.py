"""One masking function (cpr.mask) for every spelling the CPR parser accepts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from evaluation import cpr
from evaluation.errors import EvaluationError, InputError

CPR = "0505078724"
SPELLINGS = ["0505078724", "050507-8724", "05 05 07 8724", "05-05-07-8724", "050507 - 8724",
             "0\t5\u00a005\u2003078724", "050507\u2028-8724", " 0505078724 "]


def test_every_spelling_the_parser_accepts_is_masked():
    parsed = cpr.parse(SPELLINGS)
    assert parsed["reason"].isna().all() and (parsed["cpr"].str.strip() == CPR).all()
    for spelling in SPELLINGS:
        masked = cpr.mask(f"row 3: value {spelling}!")
        assert not any(ch.isdigit() for ch in masked.replace("row 3", "")), masked
        assert cpr.MASKED in masked


def test_every_character_the_parser_removes_is_a_separator_of_the_mask():
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    removed = pc.equal(pc.utf8_length(cpr._normalised(pa.array(chars))), 0)
    separators = [c for c, r in zip(chars, removed.to_pylist()) if r]
    assert "-" in separators and " " in separators and len(separators) > 20
    for sep in separators:
        assert cpr.mask(f"050507{sep}8724") == cpr.MASKED, hex(ord(sep))


def test_mask_keeps_dates_counts_and_rows():
    text = "charges.csv, row 12, column 'case_id': 2026-09-30 (1530 rows, 12345678)"
    assert cpr.mask(text) == text
    assert cpr.mask("lost a leading zero: 505078724") == f"lost a leading zero: {cpr.MASKED}"


def test_contains_cpr_finds_numbers_inside_free_text():
    values = ["K-2024-000123", "050507-8724/2", "sag 05 05 07 8724", "0505078724", "9999999999",
              None, "851", "12" + CPR, "31129912345"]
    found = cpr.contains_cpr(values)
    assert found.tolist() == [False, True, True, True, False, False, False, True, True]
    assert cpr.contains_cpr(np.array([], dtype=object)).tolist() == []


def test_every_error_message_is_masked():
    assert CPR not in str(EvaluationError(f"bad {SPELLINGS[3]}"))
    err = InputError("bad value", file=f"/data/charges_{SPELLINGS[1]}.csv", row=2, column=CPR)
    assert "8724" not in str(err) and "row 2" in str(err) and "charges_" in str(err)
