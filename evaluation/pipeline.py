"""Running several stages in a row (``evaluation run`` and ``evaluation demo``).

Each stage is run through its own command, in process, exactly as a user would type it, so that
the pipeline and the single commands cannot drift apart. The first stage that fails stops the
pipeline with one message naming the stage.
"""

from __future__ import annotations

import click

from .errors import EvaluationError, InternalError
from .progress import info


def run_stages(stages: list[tuple[str, list[str]]]) -> list[str]:
    """Run ``evaluation <args>`` in process for each (label, args) in order; the labels done.

    A failing stage raises an :class:`EvaluationError` naming it, so later stages do not run.
    """
    from .cli import cli

    done = []
    for label, args in stages:
        info(f"== {label}: evaluation {' '.join(args)}")
        try:
            code = cli.main(args=args, prog_name="evaluation", standalone_mode=False,
                            obj={"debug": True})
        except InternalError:
            raise
        except EvaluationError as exc:
            failed = EvaluationError(f"{label} failed: {exc.message}")
            failed.exit_code = exc.exit_code  # a user's mistake stays exit 2, a stop stays 1
            raise failed from exc
        except click.ClickException as exc:
            raise EvaluationError(f"{label} failed: {exc.format_message()}") from exc
        except (KeyboardInterrupt, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # a bug: say in which stage and step, never a bare error
            from .progress import failed_step

            raise InternalError(f"stage '{label}'", exc, failed_step()) from exc
        if isinstance(code, int) and code != 0:
            raise EvaluationError(f"{label} failed (exit code {code}); see the messages above")
        done.append(label)
    return done

