"""Tests of bot/arxiv/, a module per test file."""
