"""The pseudonymisation key: creating it, checking it, and keyed pseudonyms (DESIGN.md section 5).

A pseudonym is ``HMAC-SHA256(key, normalised CPR number)``, truncated to its first 16 bytes and
written as 32 lowercase hexadecimal characters. The key is a secret kept outside the warehouse:
the same key links all sources and all runs; without it, pseudonyms cannot be linked back to CPR
numbers, and another key gives unrelated pseudonyms.

Key file format
---------------
The key is the content of the key file with surrounding whitespace (a trailing newline) removed,
used as raw bytes. It must be at least :data:`MIN_KEY_BYTES` bytes long. ``evaluation keygen``
writes 32 random bytes from :mod:`secrets` as 64 hexadecimal characters and a newline, so the file
can be copied and inspected as text; the 64 characters themselves are the HMAC key.

A key file is refused (:class:`~evaluation.errors.KeyFileError`, naming the file, never its
content) when it is missing, not a regular file, shorter than :data:`MIN_KEY_BYTES` bytes, readable
or writable by group or others (``mode & 0o077``), inside a folder it must stay out of (the
warehouse being written), or of little entropy (:func:`weak_key_reason`: all zero bytes, one
character repeated, a short pattern repeated, a word or two).

Key custody
-----------
The key never leaves its file; its *fingerprint* (:func:`key_fingerprint`, a keyed hash of a
fixed text) is recorded in the warehouse's linkage report, copied into ``cohort.json`` and the
results bundle, and every later stage checks that what it reads comes from one key
(:func:`check_same_key`): a cohort built on a warehouse that has since been pseudonymised with
another key would otherwise be analysed with no events at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from .errors import KeyFileError

#: Random bytes in a key made by :func:`generate_key_file`.
KEY_BYTES = 32
#: Shortest accepted key (bytes of key material after stripping surrounding whitespace).
MIN_KEY_BYTES = 32
#: Least estimated entropy of an accepted key, in bits (see :func:`weak_key_reason`).
MIN_KEY_ENTROPY_BITS = 80
#: Length of a pseudonym in bytes (it is written as twice as many hexadecimal characters).
PSEUDONYM_BYTES = 16

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def generate_key_file(path: str | os.PathLike[str]) -> Path:
    """Create a new key file with :data:`KEY_BYTES` random bytes, readable by its owner only.

    The file is created with ``O_CREAT | O_EXCL`` and mode ``0600``, so an existing file is never
    overwritten and the key is never readable by others, not even for an instant. Nothing else is
    created: the folder must exist.

    Parameters
    ----------
    path
        Where to write the key.

    Returns
    -------
    Path
        The absolute path of the new key file.

    Raises
    ------
    KeyFileError
        If the file exists already, its folder does not exist, or it cannot be written.
    """
    path = Path(path).absolute()
    if path.exists() or path.is_symlink():
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it "
                           "(a new key would unlink every earlier pseudonym)")
    if not path.parent.is_dir():
        raise KeyFileError(f"cannot create key file {path}: folder {path.parent} does not exist "
                           "(create it first, readable by you only: mkdir -m 700)")
    content = (secrets.token_hex(KEY_BYTES) + "\n").encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KeyFileError(f"cannot create key file {path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)  # independent of the umask
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise KeyFileError(f"cannot write key file {path}: {exc.strerror}") from None
        raise
    os.close(fd)
    return path


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def load_key(
    path: str | os.PathLike[str] | None,
    *,
    forbidden_dirs: Iterable[str | os.PathLike[str]] = (),
) -> bytes:
    """Read and check a key file; return the key material.

    Parameters
    ----------
    path
        The key file.
    forbidden_dirs
        Folders the key file must not be inside (after resolving symbolic links), typically the
        warehouse about to be written: a key stored beside the pseudonyms undoes them.

    Returns
    -------
    bytes
        The file's content without surrounding whitespace.

    Raises
    ------
    KeyFileError
        Missing, not a regular file, open to group or others, too short, or inside a forbidden
        folder. The message names the file and never shows its content.
    """
    if path is None:
        raise KeyFileError("no key file given (use --key KEYFILE; create one with "
                           "'evaluation keygen KEYFILE')")
    given = Path(path)
    resolved = given.resolve()
    if not resolved.exists():
        raise KeyFileError(f"key file {given} not found; create one with 'evaluation keygen {given}' "
                           "(or give the study's existing key: a new key gives unrelated pseudonyms)")
    for folder in forbidden_dirs:
        folder = Path(folder).resolve()
        if _inside(resolved, folder):
            raise KeyFileError(f"key file {given} is inside the output folder {folder}; keep the key "
                               "outside the warehouse")
    st = resolved.stat()
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"key file {given} is not a regular file")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise KeyFileError(f"key file {given} has mode {mode:04o}: it must be readable by its owner "
                           f"only (chmod 600 {given})")
    try:
        key = resolved.read_bytes().strip()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {given}: {exc.strerror}") from None
    if len(key) < MIN_KEY_BYTES:
        raise KeyFileError(f"key file {given} holds {len(key)} bytes; a key needs at least "
                           f"{MIN_KEY_BYTES} (create one with 'evaluation keygen')")
    weak = weak_key_reason(key)
    if weak:
        raise KeyFileError(f"key file {given} is not a secret key: {weak}; create one with "
                           "'evaluation keygen'")
    return key


def weak_key_reason(key: bytes) -> str | None:
    """Why ``key`` has too little entropy to be a key, or None.

    Two checks on the bytes themselves (they cannot prove a key random, only catch keys that are
    plainly not): a key must not repeat a pattern shorter than half its length (``00000...``,
    ``abcabc...``), and the Shannon entropy of its byte frequencies times its length must reach
    :data:`MIN_KEY_ENTROPY_BITS` (32 random hexadecimal characters give 90 to 120 bits, the 64
    that ``evaluation keygen`` writes about 235; 32 bytes drawn from 6 characters at most 83).
    """
    n = len(key)
    for period in range(1, n // 2 + 1):
        if n % period == 0 and key == key[:period] * (n // period):
            return f"it repeats a pattern of {period} byte(s)"
    counts = [key.count(b) for b in set(key)]
    bits = -sum(c * math.log2(c / n) for c in counts)
    if bits < MIN_KEY_ENTROPY_BITS:
        return (f"its bytes carry about {bits:.0f} bits of entropy, fewer than "
                f"{MIN_KEY_ENTROPY_BITS}")
    return None


def key_fingerprint(key: bytes) -> str:
    """A short public label of a key (12 hex characters of an HMAC of a fixed text).

    Two warehouses with the same fingerprint were made with the same key; the fingerprint reveals
    nothing about the key or any pseudonym.
    """
    return hmac.digest(key, b"evaluation key fingerprint", "sha256")[:6].hex()


def identifier_key(key: bytes, column: str) -> bytes:
    """The key for the keyed hash of identifier column ``column`` (case or group numbers).

    ``HMAC-SHA256(key, "evaluation identifier <column>")``: one key per column, derived from the
    study key (domain separation), so that a case number never gets the pseudonym of a person
    or of a group with the same digits, and the hash of a value cannot be looked up with the
    person pseudonyms.
    """
    return hmac.digest(key, f"evaluation identifier {column}".encode(), "sha256")


#: Where the warehouse records its key fingerprint (written by ``evaluation pseudonymise``).
FINGERPRINT_FILE = "linkage_report.json"
FINGERPRINT_FIELD = "key_fingerprint"


class KeyMismatch(KeyFileError):
    """The inputs of a stage come from different pseudonymisation keys."""


def warehouse_fingerprint(warehouse: str | os.PathLike[str]) -> str | None:
    """The key fingerprint of a warehouse (None for one without a linkage report, such as the
    simulator's warehouse form, which has no key)."""
    path = Path(warehouse) / FINGERPRINT_FILE
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise KeyFileError(f"{path} cannot be read as JSON; pseudonymise again") from None
    value = report.get(FINGERPRINT_FIELD) if isinstance(report, dict) else None
    return value if isinstance(value, str) else None


def check_same_key(stage: str, fingerprints: dict[str, str | None]) -> str | None:
    """Refuse inputs that come from different keys; return their common fingerprint.

    ``fingerprints`` maps a label of each input ("warehouse /x/wh", "cohort /x/out/cohort") to
    its recorded fingerprint; an input that records none (made before fingerprints were kept, or
    simulated without a key) is compared as None, so a mix of keyed and unkeyed inputs is
    refused too.
    """
    values = set(fingerprints.values())
    if len(values) <= 1:
        return next(iter(values), None)
    said = "; ".join(f"{label}: {fp or 'no key fingerprint'}" for label, fp in fingerprints.items())
    raise KeyMismatch(f"{stage}: the inputs come from different pseudonymisation keys ({said}); "
                      "their pseudonyms do not link. Run the earlier stages again on one "
                      "warehouse (a new key gives new pseudonyms: cohort build, then analyse)")


def _recorded(path: Path) -> str | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = doc.get(FINGERPRINT_FIELD) if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None


def check_study_inputs(stage: str, *, warehouse: str | os.PathLike[str] | None = None,
                       cohort: str | os.PathLike[str] | None = None,
                       bundle: str | os.PathLike[str] | None = None) -> str | None:
    """Check that the warehouse, cohort and results bundle a stage reads (those that exist)
    come from one key; return its fingerprint. Refuses a mix (:class:`KeyMismatch`).

    The cohort records the warehouse's fingerprint in ``cohort.json`` and the bundle in
    ``manifest.json``, both as ``key_fingerprint``.
    """
    recorded: dict[str, str | None] = {}
    if warehouse is not None and Path(warehouse).is_dir():
        recorded[f"warehouse {warehouse}"] = warehouse_fingerprint(warehouse)
    if cohort is not None and (Path(cohort) / "cohort.json").is_file():
        recorded[f"cohort {cohort}"] = _recorded(Path(cohort) / "cohort.json")
    if bundle is not None and (Path(bundle) / "manifest.json").is_file():
        recorded[f"results bundle {bundle}"] = _recorded(Path(bundle) / "manifest.json")
    return check_same_key(stage, recorded)


def _hex_array(digests: bytes, n: int) -> pa.Array:
    """``n`` packed 16-byte digests as an Arrow string array of 32 lowercase hex characters."""
    raw = np.frombuffer(digests, dtype=np.uint8).reshape(n, PSEUDONYM_BYTES)
    hexed = np.empty((n, 2 * PSEUDONYM_BYTES), dtype=np.uint8)
    hexed[:, 0::2] = _HEX[raw >> 4]
    hexed[:, 1::2] = _HEX[raw & 0x0F]
    offsets = np.arange(0, 2 * PSEUDONYM_BYTES * n + 1, 2 * PSEUDONYM_BYTES, dtype=np.int64)
    return pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(hexed.tobytes())]
    ).cast(pa.string())


def _as_bytes_list(values: Sequence[str] | np.ndarray | pa.Array) -> list[bytes]:
    """The values as a list of ASCII bytes (fast path for Arrow arrays of equal-length text)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if values.null_count:
            raise ValueError("pseudonyms of missing values were asked for")
        arr = values.cast(pa.large_string())
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
        lengths = np.diff(offsets)
        if len(lengths) and (lengths == lengths[0]).all() and lengths[0] > 0:
            data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
            return data.view(f"S{lengths[0]}").tolist()
        values = arr.to_pylist()
    return [v.encode("utf-8") for v in values]


def _hmac_pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """SHA-256 states after the inner and outer key blocks of HMAC (RFC 2104).

    HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), with K' the key (hashed first when longer
    than the 64-byte block) padded with zeros. Copying these two states per message is about
    twice as fast as a fresh ``hmac.digest`` call, which sets up the key anew each time.
    """
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer


def pseudonyms(key: bytes, normalised_cprs: Sequence[str] | np.ndarray | pa.Array) -> pa.Array:
    """Pseudonyms of normalised CPR numbers (10 digits, no hyphen), one per value, in order.

    ``person_id = HMAC-SHA256(key, cpr)[:16]`` as 32 lowercase hexadecimal characters. Each value
    costs one HMAC (about a microsecond); callers with repeated values should pass the
    distinct ones and map the result back.

    Parameters
    ----------
    key
        The key material from :func:`load_key`.
    normalised_cprs
        Normalised CPR numbers as text (a sequence of str or an Arrow string array); none may be
        missing.

    Returns
    -------
    pyarrow.Array
        Strings of 32 lowercase hex characters, aligned with the input.
    """
    values = _as_bytes_list(normalised_cprs)
    n = len(values)
    if n == 0:
        return pa.array([], type=pa.string())
    inner, outer = _hmac_pads(key)

    def one(value: bytes, inner_copy=inner.copy, outer_copy=outer.copy) -> bytes:
        h = inner_copy()
        h.update(value)
        o = outer_copy()
        o.update(h.digest())
        return o.digest()[:PSEUDONYM_BYTES]

    packed = b"".join([one(v) for v in values])
    return _hex_array(packed, n)


__all__ = [
    "FINGERPRINT_FIELD",
    "KEY_BYTES",
    "MIN_KEY_BYTES",
    "PSEUDONYM_BYTES",
    "KeyMismatch",
    "check_same_key",
    "check_study_inputs",
    "generate_key_file",
    "identifier_key",
    "key_fingerprint",
    "load_key",
    "pseudonyms",
    "warehouse_fingerprint",
    "weak_key_reason",
]
