"""Tests of bot/cli/ (the ``paperbot`` command line), a module per test file."""
