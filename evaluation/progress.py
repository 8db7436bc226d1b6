"""Progress on long steps, on stderr so that stdout stays clean for results and JSON."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

_quiet = False


def set_quiet(quiet: bool) -> None:
    """Silence progress messages (``evaluation --quiet``)."""
    global _quiet
    _quiet = quiet


def info(message: str) -> None:
    """One progress line on stderr."""
    if not _quiet:
        print(message, file=sys.stderr, flush=True)


@contextmanager
def step(label: str) -> Iterator[None]:
    """Announce a step and, when it ends, how long it took."""
    start = time.perf_counter()
    info(f"{label} ...")
    yield
    info(f"{label}: done in {time.perf_counter() - start:.1f} s")
