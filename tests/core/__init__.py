"""Tests of bot/core/, a module per test file."""
