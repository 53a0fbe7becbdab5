"""Write a file whole or not at all: a temporary file in the same folder, renamed into place on success.

Used wherever paperbot writes a file a user asked for (``export -o``, ``classify --output``), so that an
interrupted or failed write leaves the previous file, or none, and never half of one. A symbolic link is
written through (the file it points to is replaced, the link stays); a pipe or a device (``/dev/stdout``)
is streamed into, as it cannot be replaced; the paper database itself is refused (``check_output``).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from bot.core.errors import BotError

_SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def sqlite_file(url: str) -> str | None:
    """The file behind a ``sqlite:///`` URL, as written (``~`` not expanded); None for another database or an
    in-memory one. String parsing only: the query side uses it without importing SQLAlchemy."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] != "sqlite":
        return None
    path = rest[1:].split("?", 1)[0] if rest.startswith("/") else ""
    return path if path and path != ":memory:" else None


def check_output(path: Path, database_url: str) -> None:
    """Raise ``BotError`` when ``path`` is the SQLite database of ``database_url`` or one of its side files:
    writing there would destroy every stored paper."""
    database = sqlite_file(database_url)
    if database is None:  # not a SQLite file: nothing on disk to protect
        return
    target = path.resolve()
    for suffix in _SQLITE_SIDE_FILES:
        if target == Path(database + suffix).expanduser().resolve():
            raise BotError(f"{path} is the paper database; writing there would destroy it: name another file")


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_text(path: Path, *, buffering: int = -1) -> Iterator[TextIO]:
    """A UTF-8 text stream that becomes ``path`` when the block succeeds; on any error it is removed.

    The file keeps the mode it had (a new one gets the usual ``0666`` less the umask).
    """
    target = path.resolve() if path.is_symlink() else path
    if target.exists() and not target.is_file():  # a pipe or a device: nothing to rename over
        with open(target, "w", encoding="utf-8", newline="", buffering=buffering) as stream:
            yield stream
        return
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else _new_file_mode()
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="", buffering=buffering) as stream:
            yield stream
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
