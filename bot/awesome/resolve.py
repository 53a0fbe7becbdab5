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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from bot.core.text import title_key
from db import decisions, store
from db.decisions import NOT_FOUND, ListedEntry
from db.session import session_scope

log = logging.getLogger(__name__)

MAX_TITLE_SEARCHES = 100  # per run: each is one arXiv request, three seconds apart
NOT_FOUND_RETRY_AFTER = timedelta(days=14)  # a title arXiv did not find is searched again after this

Progress = Callable[[int, int | None], None]


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
            corpus_titles: Mapping[str, str], search: bool = True, hydrate: bool = True,
            retry_not_found: bool = False, max_searches: int = MAX_TITLE_SEARCHES,
            progress: Progress | None = None, now: datetime | None = None) -> Resolution:
    """Resolve every entry in a configured section, store them as the list, and return them.

    ``corpus_titles`` maps normalised titles (``normalize_title``) of papers known elsewhere, such as the
    shipped labelled corpus, to their arXiv ids. ``hydrate`` fetches the linked papers the store lacks;
    ``search`` asks arXiv for the titles still unknown, except those it did not find in the last
    ``NOT_FOUND_RETRY_AFTER`` (``retry_not_found`` asks again anyway). When arXiv cannot be reached the
    entries are matched by link and title alone, with a warning, and nothing is remembered as not found.
    ``progress(done, total)`` follows the title searches.
    """
    now = now or store.utcnow()
    labels = entry_labels(doc, settings.list)
    entries = [entry for entry in doc.entries if entry.line in labels]
    with session_scope(engine) as session:  # indexed look-ups: the list's size, not the store's, counts
        previous = {normalize_title(e.title): e for e in decisions.list_entries(session)}
        stored_titles = store.ids_by_title(session, (title_key(e.title) for e in entries if not e.arxiv_ids))
    known_titles = {normalize_title(e.title): stored_titles[title_key(e.title)] for e in entries
                    if title_key(e.title) in stored_titles}
    # First pass, no network: the entry's own link, titles we already know, misses we remember.
    first: dict[int, tuple[str | None, str]] = {}
    missed: dict[int, datetime | None] = {}  # entries arXiv did not find lately: when it was asked
    for entry in entries:
        key = normalize_title(entry.title)
        prior = previous.get(key)
        recent_miss = (prior is not None and prior.resolved_by == NOT_FOUND and not retry_not_found
                       and prior.looked_up_at is not None
                       and now - prior.looked_up_at < NOT_FOUND_RETRY_AFTER)
        if entry.arxiv_ids and recent_miss and prior is not None:  # a link arXiv did not serve lately
            first[entry.line], missed[entry.line] = (entry.arxiv_ids[0], NOT_FOUND), prior.looked_up_at
        elif entry.arxiv_ids:
            first[entry.line] = (entry.arxiv_ids[0], "link")
        elif key in known_titles:
            first[entry.line] = (known_titles[key], "title")
        elif recent_miss and prior is not None:
            first[entry.line], missed[entry.line] = (None, NOT_FOUND), prior.looked_up_at
        elif key in corpus_titles:
            first[entry.line] = (corpus_titles[key], "title")
        elif prior is not None and prior.arxiv_id:
            first[entry.line] = (prior.arxiv_id, prior.resolved_by)
        else:
            first[entry.line] = (None, "unresolved")
    wanted = sorted({arxiv_id for arxiv_id, how in first.values() if arxiv_id and how != NOT_FOUND})
    with session_scope(engine) as session:
        missing = sorted(set(wanted) - set(store.get_papers(session, wanted)))
    hydrated = 0
    if missing and hydrate:  # one id_list request per 50 papers
        try:
            papers = lookup.by_ids(missing)
        except FetchError as exc:
            log.warning("%s: %d listed papers not fetched; the list is matched by link and title only", exc,
                        len(missing))
            papers, search = [], False
        with session_scope(engine) as session:
            hydrated = store.upsert_papers(session, papers).new
            present = set(store.get_papers(session, wanted))
        for line, (arxiv_id, how) in first.items():
            if arxiv_id is None or arxiv_id in present or how == NOT_FOUND:
                continue
            if how != "link":
                first[line] = (None, "unresolved")  # an id arXiv does not know (or did not say): search
            elif search:  # arXiv answered but did not serve the linked paper: not asked again soon
                first[line], missed[line] = (arxiv_id, NOT_FOUND), now
    # Second pass: ask arXiv for the titles still unknown (bounded, and not again soon after a miss).
    asking = [e for e in entries if first[e.line][0] is None and first[e.line][1] != NOT_FOUND
              and normalize_title(e.title)][:max_searches] if search else []
    found: dict[int, Paper | None] = {}
    for done, entry in enumerate(asking, start=1):
        try:
            hits = lookup.by_title(clean_text(entry.title))
        except FetchError as exc:
            log.warning("%s: %d titles not searched; they stay unresolved until arXiv answers", exc,
                        len(asking) - done + 1)
            break
        found[entry.line] = next((p for p in hits if titles_match(p.title, entry.title,
                                                                  settings.list.title_match_threshold)), None)
        if progress:
            progress(done, len(asking))
    with session_scope(engine) as session:
        store.upsert_papers(session, [p for p in found.values() if p is not None])
    resolved: list[ListedEntry] = []
    for entry in entries:
        label = labels[entry.line]
        arxiv_id, how = first[entry.line]
        looked_up = missed.get(entry.line)
        if entry.line in found:
            paper = found[entry.line]
            arxiv_id, how, looked_up = (paper.arxiv_id, "search", None) if paper else (None, NOT_FOUND, now)
        resolved.append(ListedEntry(settings.list.sections.get(label.value, label.value), label,
                                    clean_text(entry.title), entry.venue, arxiv_id, how, entry.line + 1,
                                    looked_up))
    with session_scope(engine) as session:
        decisions.replace_list_entries(session, resolved)
        stored = decisions.list_entries(session)
    listed = {e.arxiv_id: e.label for e in stored if e.arxiv_id and e.label}
    listed.update(listed_labels(doc, settings.list))  # links to papers the store does not hold too
    return Resolution(stored, len(found), hydrated, listed)
