"""``python -m evaluation`` runs the command line."""

from .cli import main

main()
