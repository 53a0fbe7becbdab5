"""Tests of classifier/, a module per test file."""
