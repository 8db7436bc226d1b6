"""Each quarter's record is immutable: kept versions of a quarter's results bundle.

A quarter's bundle lives in ``<output>/<Q>/results/``. Before it is replaced (``evaluation
analyse`` for a quarter that already has a bundle) and whenever ``evaluation track`` reads it,
the bundle is kept under ``<output>/<Q>/versions/<n>-<version>/`` (``n`` = 1, 2, ...) unless
that version is kept already. The version is the first 12 hex digits of the SHA-256 of the bundle's
``manifest.json``, which holds the hashes of every input file and configuration and the package
versions: rebuilding with the same data and code gives the same version, changed data or code a
new one beside the old. Kept versions are never rewritten or removed.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from ..atomic import atomic_dir

VERSIONS = "versions"


def bundle_version(results: Path) -> str | None:
    """The version of the bundle in ``results`` (None when it has no manifest)."""
    manifest = results / "manifest.json"
    if not manifest.is_file():
        return None
    return hashlib.sha256(manifest.read_bytes()).hexdigest()[:12]


def _kept(quarter_dir: Path) -> list[tuple[int, str]]:
    """(sequence number, version) of the kept versions, oldest first."""
    folder = quarter_dir / VERSIONS
    found = []
    if folder.is_dir():
        for p in folder.iterdir():
            seq, _, version = p.name.partition("-")
            if p.is_dir() and seq.isdigit() and version:
                found.append((int(seq), version))
    return sorted(found)


def version_dir(quarter_dir: Path, version: str) -> Path | None:
    """The folder of a kept version (``versions/<n>-<version>/``), None when not kept."""
    for seq, v in _kept(quarter_dir):
        if v == version:
            return quarter_dir / VERSIONS / f"{seq}-{v}"
    return None


def keep_version(quarter_dir: Path) -> str | None:
    """Keep the quarter's current bundle as a version (once); return its version id.

    Versions are kept as ``versions/<n>-<version>/`` with ``n`` counting up from 1.
    """
    results = quarter_dir / "results"
    version = bundle_version(results)
    if version is None:
        return None
    if version_dir(quarter_dir, version) is None:
        seq = max((s for s, _ in _kept(quarter_dir)), default=0) + 1
        with atomic_dir(quarter_dir / VERSIONS / f"{seq}-{version}") as tmp:
            shutil.copytree(results, tmp, dirs_exist_ok=True)
    return version


def kept_versions(quarter_dir: Path) -> list[str]:
    """Versions kept for a quarter, oldest first."""
    return [v for _, v in _kept(quarter_dir)]
