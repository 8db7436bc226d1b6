"""Progress on long steps, on stderr so that stdout stays clean for results and JSON; what a
command prints on stdout (:func:`echo`). Every line passes through :func:`evaluation.cpr.mask`."""

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


def is_quiet() -> bool:
    """Whether progress messages are silenced (passed on to a second process)."""
    return _quiet


def info(message: str) -> None:
    """One progress line on stderr."""
    if not _quiet:
        from .cpr import mask

        print(mask(message), file=sys.stderr, flush=True)


def echo(message: object = "") -> None:
    """One line of a command's output on stdout (results, paths, JSON)."""
    import click

    from .cpr import mask

    click.echo(mask(message))


_failed_step: str | None = None


@contextmanager
def step(label: str) -> Iterator[None]:
    """Announce a step and, when it ends, how long it took.

    When the step fails with an error that is not the user's (a bug), its label is kept (the
    innermost failing step) for the message of the internal error (:func:`failed_step`).
    """
    global _failed_step
    start = time.perf_counter()
    info(f"{label} ...")
    try:
        yield
    except Exception as exc:
        from .errors import EvaluationError

        if _failed_step is None and not isinstance(exc, EvaluationError):
            _failed_step = label  # a bug in this step, not a user's mistake
        raise
    info(f"{label}: done in {time.perf_counter() - start:.1f} s")


def failed_step() -> str | None:
    """The label of the innermost step that failed last (and forget it)."""
    global _failed_step
    label, _failed_step = _failed_step, None
    return label
