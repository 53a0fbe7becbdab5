"""The ``paperbot`` command line (``bot.cli:main``): the click group in ``app``, a module per group."""

from bot.cli.app import cli, main

__all__ = ["cli", "main"]
