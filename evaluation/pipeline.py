"""Running several stages in a row (``evaluation run`` and ``evaluation demo``).

Each stage is run through its own command, in process, exactly as a user would type it, so that
the pipeline and the single commands cannot drift apart. A stage that is not built yet is
reported as such and the pipeline stops there, saying which stages remain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import click

from .errors import EvaluationError, NotBuiltYet
from .progress import info


@dataclass
class PipelineLog:
    """What ran, what was not built yet, and what failed."""

    done: list[str] = field(default_factory=list)
    not_built: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)


def run_stage(label: str, args: list[str], log: PipelineLog) -> bool:
    """Run ``evaluation <args>`` in process. True when it succeeded.

    A stage that is not built yet is recorded in ``log.not_built``; any other error a user can
    cause is raised again as an :class:`EvaluationError` naming the stage.
    """
    from .cli import cli

    info(f"== {label}: evaluation {' '.join(args)}")
    try:
        code = cli.main(args=args, prog_name="evaluation", standalone_mode=False, obj={"debug": True})
    except NotBuiltYet:
        info(f"== {label}: not built yet")
        log.not_built.append(label)
        return False
    except EvaluationError as exc:
        raise EvaluationError(f"{label} failed: {exc.message}") from exc
    except click.ClickException as exc:
        raise EvaluationError(f"{label} failed: {exc.format_message()}") from exc
    if isinstance(code, int) and code != 0:
        raise EvaluationError(f"{label} failed (exit code {code}); see the messages above")
    log.done.append(label)
    return True


def quarter_of(day: dt.date) -> str:
    """Calendar quarter label of a date: 2026-09-30 -> '2026Q3'."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"
