"""Know what is on the list: resolve each entry of the README to an arXiv paper and store it as listed.

Runs in ``paperbot run`` (and ``paperbot list status``) after the README is read. An entry with an arXiv
link resolves by its id; one without resolves by its title — against papers already in the store, then
the shipped labelled corpus, then an arXiv title search whose best hit must match the title
(``bot/awesome/titles.py``; near-misses are refused). Resolutions are remembered, and a title arXiv did
not find is not searched again unless asked, so a normal run costs no extra arXiv requests. Listed papers
are the maintainers' own labelled data.

arXiv is reached through the ``PaperLookup`` the caller hands in (``bot.pipeline.stages.resolve_list``
passes the arXiv client), so the list editor never imports the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine

from bot.awesome.feedback import entry_labels, listed_labels
from bot.awesome.insert import AwesomeList
from bot.awesome.markdown import clean_text
from bot.awesome.titles import normalize_title, titles_match
from bot.core.config import Settings
from bot.core.errors import FetchError
from bot.core.labels import Label
from bot.core.models import Paper
from db import decisions, store
from db.decisions import NOT_FOUND, ListedEntry
from db.session import session_scope

log = logging.getLogger(__name__)

MAX_TITLE_SEARCHES = 100  # per run: each is one arXiv request, three seconds apart


class PaperLookup(Protocol):
    """Where papers the store does not hold are looked up (the arXiv client, in the pipeline)."""

    def by_ids(self, arxiv_ids: list[str]) -> list[Paper]:
        """The papers with these ids (unknown ids are left out)."""
        ...

    def by_title(self, title: str) -> list[Paper]:
        """Papers whose title matches ``title``, best first; ``FetchError`` when arXiv cannot be asked."""
        ...


@dataclass(frozen=True)
class Resolution:
    entries: list[ListedEntry]
    searched: int
    hydrated: int
    listed: dict[str, Label]  # every arXiv id on the list (resolved or linked) → its section's label

    @property
    def unresolved(self) -> list[ListedEntry]:
        return [e for e in self.entries if e.arxiv_id is None]


def resolve(settings: Settings, engine: Engine, doc: AwesomeList, *, lookup: PaperLookup,
            corpus_titles: Mapping[str, str], search: bool = True, retry_not_found: bool = False,
            max_searches: int = MAX_TITLE_SEARCHES) -> Resolution:
    """Resolve every entry in a configured section, store them as the list, and return them.

    ``corpus_titles`` maps normalised titles (``normalize_title``) of papers known elsewhere, such as the
    shipped labelled corpus, to their arXiv ids.
    """
    labels = entry_labels(doc, settings.list)
    with session_scope(engine) as session:
        previous = {normalize_title(e.title): e for e in decisions.list_entries(session)}
        known_titles = {normalize_title(p.title): p.arxiv_id for p in store.all_papers(session)}
    entries = [entry for entry in doc.entries if entry.line in labels]
    # First pass, no network: the entry's own link, then titles we already know.
    first: dict[int, tuple[str | None, str]] = {}
    for entry in entries:
        key = normalize_title(entry.title)
        prior = previous.get(key)
        if entry.arxiv_ids:
            first[entry.line] = (entry.arxiv_ids[0], "link")
        elif key in known_titles:
            first[entry.line] = (known_titles[key], "title")
        elif key in corpus_titles:
            first[entry.line] = (corpus_titles[key], "title")
        elif prior is not None and (prior.arxiv_id or not retry_not_found):
            first[entry.line] = (prior.arxiv_id, prior.resolved_by)
        else:
            first[entry.line] = (None, "unresolved")
    wanted = sorted({arxiv_id for arxiv_id, _ in first.values() if arxiv_id})
    with session_scope(engine) as session:
        missing = sorted(set(wanted) - set(store.get_papers(session, wanted)))
    hydrated = 0
    if missing:  # one id_list request per 50 papers
        papers = lookup.by_ids(missing)
        with session_scope(engine) as session:
            hydrated = store.upsert_papers(session, papers).new
            present = set(store.get_papers(session, wanted))
        for line, (arxiv_id, how) in first.items():
            if arxiv_id is not None and arxiv_id not in present and how != "link":
                first[line] = (None, "unresolved")  # a remembered id arXiv no longer knows: search again
    # Second pass: ask arXiv for the titles still unknown (bounded, and never twice for a miss).
    resolved: list[ListedEntry] = []
    searched = 0
    for entry in entries:
        label = labels[entry.line]
        title = clean_text(entry.title)
        key = normalize_title(entry.title)
        arxiv_id, how = first[entry.line]
        if arxiv_id is None and how != NOT_FOUND and search and searched < max_searches and key:
            searched += 1
            try:
                hits = lookup.by_title(title)
            except FetchError as exc:
                log.warning("title search failed for %r: %s", title[:80], exc)
                hits = []
            best = next((p for p in hits if titles_match(p.title, entry.title,
                                                         settings.list.title_match_threshold)), None)
            if best is not None:
                with session_scope(engine) as session:
                    store.upsert_papers(session, [best])
                arxiv_id, how = best.arxiv_id, "search"
            else:
                how = NOT_FOUND
        resolved.append(ListedEntry(settings.list.sections.get(label.value, label.value), label, title,
                                    entry.venue, arxiv_id, how, entry.line + 1))
    with session_scope(engine) as session:
        decisions.replace_list_entries(session, resolved)
        stored = decisions.list_entries(session)
    listed = {e.arxiv_id: e.label for e in stored if e.arxiv_id and e.label}
    listed.update(listed_labels(doc, settings.list))  # links to papers the store does not hold too
    return Resolution(stored, searched, hydrated, listed)
