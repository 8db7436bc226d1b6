"""Pseudonymisation keys: `evaluation keygen`, key-file checks, and the keyed pseudonym itself."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat

import pyarrow as pa
import pytest
from click.testing import CliRunner

from evaluation.cli import cli
from evaluation.errors import KeyFileError
from evaluation.keys import (
    MIN_KEY_BYTES,
    generate_key_file,
    key_fingerprint,
    load_key,
    pseudonyms,
)

GOOD_KEY = b"9f2c4e1a7b3d5f60c8e2a4b6d8f01357e4a1c09b62d7f35a8c1e04b97d2f6a3c"


def _write_key(path, content: bytes, mode: int = 0o600):
    path.write_bytes(content)
    os.chmod(path, mode)
    return path


def _all_output(result) -> str:
    text = result.output
    try:
        text += result.stderr
    except (ValueError, AttributeError):
        pass
    return text


# --- evaluation keygen ---------------------------------------------------------------------------

def test_keygen_writes_0600_key_and_never_prints_it(tmp_path):
    key_file = tmp_path / "study.key"
    result = CliRunner().invoke(cli, ["keygen", str(key_file)])
    assert result.exit_code == 0, _all_output(result)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    content = key_file.read_bytes()
    assert re.fullmatch(rb"[0-9a-f]{64}\n", content)
    key = content.strip()
    assert len(key) >= MIN_KEY_BYTES
    out = _all_output(result)
    assert str(key_file) in out
    assert key.decode() not in out and key.decode()[:16] not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.key"]  # no other file
    assert load_key(key_file) == key


def test_keygen_refuses_to_overwrite(tmp_path):
    key_file = tmp_path / "study.key"
    generate_key_file(key_file)
    before = key_file.read_bytes()
    result = CliRunner().invoke(cli, ["keygen", str(key_file)])
    assert result.exit_code != 0
    assert "already exists" in _all_output(result)
    assert "Traceback" not in _all_output(result)
    assert key_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.key"]


def test_keygen_needs_an_existing_folder_and_creates_nothing(tmp_path):
    result = CliRunner().invoke(cli, ["keygen", str(tmp_path / "nope" / "k.key")])
    assert result.exit_code != 0
    assert "does not exist" in _all_output(result)
    assert not (tmp_path / "nope").exists()


def test_two_keys_differ(tmp_path):
    a = load_key(generate_key_file(tmp_path / "a.key"))
    b = load_key(generate_key_file(tmp_path / "b.key"))
    assert a != b


# --- key-file checks -----------------------------------------------------------------------------

def test_missing_key_suggests_keygen(tmp_path):
    with pytest.raises(KeyFileError) as err:
        load_key(tmp_path / "absent.key")
    assert "absent.key" in str(err.value) and "evaluation keygen" in str(err.value)
    with pytest.raises(KeyFileError, match="no key file given"):
        load_key(None)


def test_short_key_refused_without_showing_it(tmp_path):
    secret = b"s3cr3t-but-far-too-short-abcdef"  # 31 bytes
    key_file = _write_key(tmp_path / "short.key", secret + b"\n")
    with pytest.raises(KeyFileError) as err:
        load_key(key_file)
    assert "short.key" in str(err.value) and "31 bytes" in str(err.value)
    assert secret.decode() not in str(err.value)
    _write_key(key_file, b"0123456789abcdefghijklmnopqrstuv")
    assert load_key(key_file) == b"0123456789abcdefghijklmnopqrstuv"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_key_open_to_others_refused(tmp_path, mode):
    key_file = _write_key(tmp_path / "open.key", b"k" * 64, mode)
    with pytest.raises(KeyFileError) as err:
        load_key(key_file)
    assert "open.key" in str(err.value) and f"{mode:04o}" in str(err.value)
    assert "k" * 20 not in str(err.value)


def test_key_inside_output_refused_also_through_a_symlink(tmp_path):
    out = tmp_path / "warehouse"
    out.mkdir()
    inside = _write_key(out / "k.key", b"k" * 64)
    with pytest.raises(KeyFileError, match="inside the output folder"):
        load_key(inside, forbidden_dirs=[out])
    link = tmp_path / "link.key"
    link.symlink_to(inside)
    with pytest.raises(KeyFileError, match="inside the output folder"):
        load_key(link, forbidden_dirs=[out])
    # and the other way round: the output folder reached through a symlink
    out_link = tmp_path / "wh-link"
    out_link.symlink_to(out, target_is_directory=True)
    with pytest.raises(KeyFileError, match="inside the output folder"):
        load_key(inside, forbidden_dirs=[out_link])
    outside = _write_key(tmp_path / "ok.key", GOOD_KEY)
    assert load_key(outside, forbidden_dirs=[out]) == GOOD_KEY


def test_key_folder_instead_of_file_refused(tmp_path):
    folder = tmp_path / "dir.key"
    folder.mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match="not a regular file"):
        load_key(folder)


# --- pseudonyms ----------------------------------------------------------------------------------

def test_pseudonym_is_truncated_hmac_sha256(tmp_path):
    key = b"0123456789abcdef" * 4
    numbers = ["0101001234", "3112995678", "2902004321"]
    got = pseudonyms(key, numbers).to_pylist()
    expected = [hmac.new(key, n.encode(), hashlib.sha256).hexdigest()[:32] for n in numbers]
    assert got == expected
    assert all(re.fullmatch(r"[0-9a-f]{32}", g) for g in got)
    # an Arrow array of equal-length text takes the fast path; the result is the same
    assert pseudonyms(key, pa.array(numbers)).to_pylist() == expected
    # mixed lengths (not CPR numbers, but the function is general)
    mixed = ["1", "22", "333"]
    assert pseudonyms(key, pa.array(mixed)).to_pylist() == [
        hmac.new(key, m.encode(), hashlib.sha256).hexdigest()[:32] for m in mixed
    ]
    assert pseudonyms(key, []).to_pylist() == []
    # keys shorter and longer than the 64-byte block of SHA-256 (a long key is hashed first)
    for other in (b"x" * 32, b"y" * 63, b"z" * 65, bytes(range(256)) * 2):
        assert pseudonyms(other, numbers).to_pylist() == [
            hmac.new(other, n.encode(), hashlib.sha256).hexdigest()[:32] for n in numbers
        ]


def test_other_key_gives_unrelated_pseudonyms():
    numbers = [f"{d:02d}0190{s:04d}" for d in range(1, 29) for s in range(1000, 1040)]
    a = set(pseudonyms(b"a" * 32, numbers).to_pylist())
    b = set(pseudonyms(b"b" * 32, numbers).to_pylist())
    assert len(a) == len(b) == len(numbers)
    assert not a & b


def test_fingerprint_is_stable_and_reveals_no_key():
    key = b"f" * 40
    assert key_fingerprint(key) == key_fingerprint(key)
    assert key_fingerprint(key) != key_fingerprint(b"g" * 40)
    assert re.fullmatch(r"[0-9a-f]{12}", key_fingerprint(key))
    assert key.decode()[:12] not in key_fingerprint(key)


@pytest.mark.parametrize("weak", [bytes(32), b"\xff" * 40, b"k" * 64, b"abc" * 12, b"password" * 4,
                                  b"aabbaabbccddccddaabbccddaabbccdd"])
def test_key_with_little_entropy_refused_without_showing_it(tmp_path, weak):
    key_file = _write_key(tmp_path / "weak.key", weak)
    with pytest.raises(KeyFileError, match="is not a secret key") as err:
        load_key(key_file)
    assert "weak.key" in str(err.value) and weak.decode("latin-1")[:8] not in str(err.value)


def test_generated_and_random_keys_pass_the_entropy_check(tmp_path):
    import secrets

    from evaluation.keys import weak_key_reason

    assert load_key(generate_key_file(tmp_path / "new.key"))
    assert all(weak_key_reason(secrets.token_hex(16).encode()) is None for _ in range(2000))
    assert all(weak_key_reason(secrets.token_bytes(32)) is None for _ in range(2000))
