"""Write a file whole or not at all: a temporary file in the same folder, renamed into place on success.

Used wherever paperbot writes a file a user asked for (``export -o``, ``classify --output``), so that an
interrupted or failed write leaves the previous file, or none, and never half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


@contextmanager
def atomic_text(path: Path, *, buffering: int = -1) -> Iterator[TextIO]:
    """A UTF-8 text stream that becomes ``path`` when the block succeeds; on any error it is removed."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="", buffering=buffering) as stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
