"""The states paperbot records, one enum each: database values, config values and output derive from them.

- ``RunStatus``: a ``runs`` row, from ``running`` to how the run ended.
- ``ProposalState``: a ``proposals`` row: open in the bot's pull request, or what the maintainers decided.
- ``Verdict``: what the maintainers did with one proposed paper, read from a pull request (``moved`` files
  it in another section than proposed; ``filed``: a section ticked for a paper of the review list).
- ``ListOrder``: where new entries go in a section (``list.order``).
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    EMPTY = "empty"  # a fetch that found nothing where something was expected: the watermark stays put

    def __str__(self) -> str:
        return self.value


class ProposalState(StrEnum):
    OPEN = "open"
    MERGED = "merged"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the bot took it out of its own pull request (e.g. it is on the list now)

    def __str__(self) -> str:
        return self.value


class Verdict(StrEnum):
    MERGED = "merged"
    REJECTED = "rejected"
    MOVED = "moved"
    FILED = "filed"  # a maintainer ticked a section's box for a paper the review list asked about

    def __str__(self) -> str:
        return self.value


class ListOrder(StrEnum):
    NEWEST_FIRST = "newest-first"  # new entries go above the human ones
    OLDEST_FIRST = "oldest-first"  # new entries go below them

    def __str__(self) -> str:
        return self.value
