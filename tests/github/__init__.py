"""Tests of bot/github/, a module per test file."""
