"""Tests of db/, a module per test file."""
