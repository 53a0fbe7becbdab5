"""The small error hierarchy paperbot raises. The CLI turns any BotError into one line and exit 1."""

from __future__ import annotations


class BotError(Exception):
    """An expected failure: reported as one clear line, never as a traceback."""


class ConfigError(BotError):
    """A bad configuration value: names the key and says why."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"config: {key}: {why}")
        self.key = key
        self.why = why


class FetchError(BotError):
    """arXiv could not be read completely; the run fails and the watermark stays where it was."""

    def __init__(self, message: str, *, url: str | None = None, attempt: int = 0,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.attempt = attempt
        self.status = status


class StoreError(BotError):
    """The database is missing, corrupt, locked or newer than this code."""


class ListError(BotError):
    """The awesome list cannot be read or does not have the configured sections."""


class PublishError(BotError):
    """GitHub refused a change; the message says which and how to fix it (``status``: GitHub's HTTP status,
    when it answered)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ClassifierError(BotError):
    """The classifier cannot be trained or applied (no data, bad input file)."""
