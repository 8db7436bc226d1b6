"""`evaluation survival`."""

from __future__ import annotations

import click


@click.command("survival", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def command(args: tuple[str, ...]) -> None:
    """Not built yet."""
    from ..errors import NotBuiltYet

    raise NotBuiltYet("'evaluation survival' is not built yet")
