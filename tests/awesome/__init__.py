"""Tests of bot/awesome/, a module per test file."""
