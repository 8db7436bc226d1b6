"""The ``evaluation`` command line: one group, one command per pipeline stage.

Each command lives in its own module under :mod:`evaluation.commands` and imports its heavy
dependencies inside the command body, so that ``--help`` is instant. Errors a user can cause
(:class:`evaluation.errors.EvaluationError`) end in one line on stderr and a non-zero exit code;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys

import click

from . import __version__
from .errors import EvaluationError, InternalError

#: Commands in pipeline order; each is ``evaluation.commands.<module>.command``.
COMMAND_MODULES = (
    "study",
    "simulate",
    "validate",
    "keygen",
    "pseudonymise",
    "cohort",
    "analyse",
    "survival",
    "area",
    "report",
    "track",
    "run",
    "demo",
)


class UserError(click.ClickException):
    """An :class:`EvaluationError` at the CLI edge: 'Error: <message>' and its exit code."""

    def __init__(self, error: EvaluationError) -> None:
        super().__init__(error.message)
        self.exit_code = error.exit_code


class EvaluationGroup(click.Group):
    def invoke(self, ctx: click.Context):
        from .progress import failed_step

        failed_step()  # forget a step that failed in an earlier command of this process
        try:
            return super().invoke(ctx)
        except EvaluationError as exc:
            if (ctx.obj or {}).get("debug"):
                raise
            raise UserError(exc) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as exc:
            if (ctx.obj or {}).get("debug"):
                raise
            stage = ctx.invoked_subcommand or "evaluation"
            raise UserError(InternalError(f"'evaluation {stage}'", exc, failed_step())) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # pipeline order, not alphabetical


@click.group(cls=EvaluationGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evaluation")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Evaluate the Aalborg youth crime prevention initiative (Taskforce and Knock Knock).

    \b
    Pipeline (each stage reads only what the previous one wrote):
      simulate      simulated raw register extracts with known effects (for demos and tests)
      validate      check tables against the data contract (file, row, column, value)
      keygen        a new secret pseudonymisation key
      pseudonymise  CPR numbers -> keyed pseudonyms; writes the warehouse
      cohort build  contacted youths and a comparison group matched at the same date
      analyse       outcomes and survival analyses -> results bundle
      survival      the same estimators on any time-to-event table
      area          area-level effect on a panel of units (ITS, DiD, synthetic control)
      report        quarterly reports (Danish/English) from a results bundle
      track         the series over every quarter since the start, projections, process
                    indicators
      run           every stage of a study
      demo          the whole pipeline on simulated data
    """
    from .progress import set_quiet

    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug or ctx.obj.get("debug", False)
    set_quiet(quiet)


for _name in COMMAND_MODULES:
    cli.add_command(importlib.import_module(f"evaluation.commands.{_name}").command)


def main() -> None:
    """Entry point of the ``evaluation`` script."""
    cli(prog_name="evaluation")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
