"""`evaluation run`."""

from __future__ import annotations

import click


@click.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def command(args: tuple[str, ...]) -> None:
    """Not built yet."""
    from ..errors import NotBuiltYet

    raise NotBuiltYet("'evaluation run' is not built yet")
