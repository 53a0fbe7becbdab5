"""Keeping secrets out of output: the one place that masks a token in text, a log record or a URL.

Used by the CLI (every error line and log record), the GitHub client (PyGithub's debug records and its
error messages) and the settings (``paperbot config``, database URLs in messages). Pure: no I/O.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "***"

_SECRET_QUERY = re.compile(r"(?i)([?&](?:password|passwd|pwd|secret|token|api_?key|access_?key)=)[^&]*")


def mask(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def mask_url(url: str) -> str:
    """Hide the secrets in a URL: the password of ``scheme://user:secret@host`` and secret-named query
    parameters (``?password=…``)."""
    url = _SECRET_QUERY.sub(rf"\1{MASK}", url)
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:{MASK}@{host}" if ":" in credentials else url


class SecretFilter(logging.Filter):
    """Replaces secret values (the GitHub token) in every log record it sees with ``***``."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message, self.secrets)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
