"""For the tests of bot/github/: the bot's branch, one list entry, and one cron run of the Publisher.

The ``publisher``, ``make_publisher`` and ``sleeps`` fixtures are in ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.github.pulls import Publisher, PullResult
from tests.support.github_server import FakeGitHub

BRANCH = "paperbot/new-papers"
ENTRY = "- [Fast Sampler](https://arxiv.org/abs/2501.00001)\n"
SECTION = "## Quantization for Diffusion Models\n\n"

MakePublisher = Callable[..., Publisher]


def add_entry(readme: str, entry: str = ENTRY) -> str:
    """Stand-in for bot/awesome/insert.py: insert one line under the quantization heading."""
    return readme.replace(SECTION, SECTION + entry)


def run(publisher: Publisher, entry: str = ENTRY, body: str = "Adds 1 paper.") -> tuple[str, PullResult]:
    """One cron run: read the list, add an entry, publish."""
    text, base_sha = publisher.read_file("README.md")
    new = add_entry(text, entry)
    return new, publisher.publish("README.md", new, "paperbot: new papers", body, base_sha=base_sha)


def write_paths(server: FakeGitHub) -> list[str]:
    return [f"{r.method} {r.path.removeprefix('/repos/octo/papers')}" for r in server.writes()]
