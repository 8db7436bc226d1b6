"""`evaluation study`: the study file's commented template and its reference."""

from __future__ import annotations

import click


@click.group("study")
def command() -> None:
    """The study file (study.toml): write a commented template, print its reference.

    \b
    The reference (docs/study-file.md) lists every section and key with its type, default,
    meaning and an example; both are generated from the code that reads the study file.
    """


@command.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=str))
@click.option("--force", is_flag=True, help="Overwrite PATH when it exists.")
def init(path: str, force: bool) -> None:
    """Write a commented study file with every key to PATH (required keys to fill in)."""
    from pathlib import Path

    from ..atomic import write_text
    from ..errors import ConfigError
    from ..studydoc import template_toml

    target = Path(path)
    if target.exists() and not force:
        raise ConfigError("exists already (use --force to overwrite)", file=str(target))
    write_text(target, template_toml())
    click.echo(f"study file: {target}")


@command.command("reference")
def reference() -> None:
    """Print the study-file reference (Markdown, as in docs/study-file.md)."""
    from ..studydoc import reference_markdown

    click.echo(reference_markdown(), nl=False)
