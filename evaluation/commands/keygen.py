"""`evaluation keygen KEYFILE`: a new secret pseudonymisation key."""

from __future__ import annotations

import click


@click.command("keygen")
@click.argument("keyfile", type=click.Path(dir_okay=False, path_type=str))
def command(keyfile: str) -> None:
    """Write a new random pseudonymisation key to KEYFILE (mode 0600).

    The key links the CPR numbers of every source to the same pseudonyms; keep it outside the
    warehouse and never share it. An existing file is never overwritten: a new key would give
    unrelated pseudonyms. The key itself is never printed.
    """
    from ..keys import KEY_BYTES, generate_key_file
    from ..progress import echo

    path = generate_key_file(keyfile)
    echo(f"wrote a new {KEY_BYTES * 8}-bit key to {path} (mode 0600); keep it outside the "
               "warehouse and back it up securely")
