"""`evaluation cohort ...`."""

from __future__ import annotations

import click


@click.group("cohort")
def command() -> None:
    """Cohorts of contacted youths and their matched comparison group."""


@command.command("build", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def build(args: tuple[str, ...]) -> None:
    """Not built yet."""
    from ..errors import NotBuiltYet

    raise NotBuiltYet("'evaluation cohort build' is not built yet")
