"""Tests of bot/pipeline/, a module per test file."""
