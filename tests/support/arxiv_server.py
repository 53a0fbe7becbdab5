"""A loopback arXiv API server for tests: real HTTP, real Atom XML, faults on demand.

``ArxivServer`` listens on 127.0.0.1 (port 0) in a daemon thread and answers ``GET /api/query`` like
export.arxiv.org does: ``search_query`` filtered by its ``submittedDate:[A TO B]`` range, ``cat:X`` terms (any
of them) and a ``ti:"phrase"``; other query terms are accepted and ignored (the server does not evaluate
boolean logic). ``id_list`` returns the latest version of each id, or the version asked for; a malformed id
gets arXiv's HTTP 400 error feed. ``sortBy=submittedDate`` sorts by ``<published>``; ``start`` and
``max_results`` page with correct ``opensearch`` headers.

The corpus comes from recorded responses (``load_file``), synthetic papers (``add_synthetic``) or hand-made
``EntrySpec`` objects (``add``). The same base id may be added twice with different versions: both entries
are served, as when a paper is revised while a client is paging.

Faults: ``server.fail(Fault.HTTP_503, times=3)`` queues a fault for the next 3 matching requests
(``start=100`` restricts it to requests for that offset, ``when=`` to any predicate); ``over_report`` adds
to every ``totalResults``. Every request is recorded (``time.monotonic()`` at arrival and when the response
was done, path, parsed query, headers), and ``max_in_flight`` is the most requests ever open at once
(a stalled request stays open until the client hangs up).

Use the ``arxiv_server`` fixture (function-scoped), registered for every test file by
``pytest_plugins = [..., "tests.support.arxiv_server"]`` in ``tests/conftest.py``;
``server.settings(**overrides)`` gives ``ArxivSettings`` pointed at it with test-sized delays and timeouts.
"""

from __future__ import annotations

import re
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from tests.fixtures.atom.synthetic import EntrySpec, entry_xml, feed_xml, synthetic_entries
from tests.support.loopback import close, serve
from tests.support.paths import ATOM_FIXTURES as FIXTURES

_NS = {"atom": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}
_ID_RE = re.compile(r"^(\d{4}\.\d{4,6}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(\d+))?$")
_DATE_RANGE_RE = re.compile(r"submittedDate:\[\s*(\d{12})\s+TO\s+(\d{12})\s*\]")
_CAT_RE = re.compile(r"\bcat:([\w.\-]+)")
_TITLE_RE = re.compile(r'\bti:"([^"]*)"')
MAX_PAGE = 2000       # arXiv's max_results limit per request
MAX_QUERY = 30_000    # and per query


class Fault(StrEnum):
    HTTP_500 = "500"
    HTTP_503 = "503"
    HTTP_429 = "429"            # with Retry-After (option retry_after="1" or an HTTP date)
    STALL = "stall"             # read the request, never answer (until the client hangs up or `seconds`)
    DROP = "drop"               # close the connection without an answer
    EMPTY_PAGE = "empty"        # a valid feed with no entries and the true totalResults
    TRUNCATED = "truncated"     # HTTP 200, the feed cut in half (Content-Length matches)
    ERROR_200 = "error200"      # HTTP 200 with arXiv's error entry
    ERROR_400 = "error400"      # HTTP 400 with arXiv's error entry (the recorded one)
    OVER_REPORT = "overreport"  # totalResults inflated by `extra` on this one response
    FILE = "file"               # a file from tests/fixtures/atom/ verbatim (options file=, status=200)


@dataclass
class Request:
    arrived: float                 # time.monotonic() when the request line and headers were read
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    finished: float | None = None  # time.monotonic() when the answer was written (or abandoned)
    fault: Fault | None = None

    @property
    def start(self) -> int:
        return int(self.query.get("start", "0") or 0)


@dataclass
class _Queued:
    fault: Fault
    remaining: int
    when: Callable[[Request], bool]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Entry:
    spec: EntrySpec | None
    arxiv_id: str
    version: int
    published: datetime
    title: str
    categories: tuple[str, ...]
    xml: str


def _norm(text: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


class ArxivServer:
    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        self.requests: list[Request] = []
        self.over_report = 0
        self.max_in_flight = 0
        self._in_flight = 0
        self._faults: list[_Queued] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> ArxivServer:
        server = self

        class Handler(_Handler):
            arxiv = server

        self._httpd = serve(Handler)
        return self

    def stop(self) -> None:
        self._stop.set()
        close(self._httpd)

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/api/query"

    def settings(self, **overrides: Any) -> Any:
        """``ArxivSettings`` pointed at this server, fast test timings, no query terms, any category."""
        from bot.core.config import ArxivSettings

        values: dict[str, Any] = dict(
            api_url=self.url, query="", categories=(), page_size=50, delay_seconds=0.2,
            connect_timeout_seconds=2.0, read_timeout_seconds=5.0, max_retries=3, retry_budget_seconds=30.0,
            backoff_base_seconds=0.01, backoff_max_seconds=0.05, user_agent="paperbot-tests/0 (test suite)")
        values.update(overrides)
        return ArxivSettings(**values)

    # -- corpus -------------------------------------------------------------------------------------------
    def add(self, *specs: EntrySpec) -> None:
        for spec in specs:
            self.entries.append(_Entry(spec, spec.arxiv_id, spec.version, spec.published, spec.title,
                                       spec.categories, entry_xml(spec)))

    def add_synthetic(self, n: int, *, start: datetime, end: datetime, seed: int = 0) -> list[EntrySpec]:
        specs = synthetic_entries(n, start=start, end=end, seed=seed)
        self.add(*specs)
        return specs

    def revise(self, arxiv_id: str, *, version: int, updated: datetime | None = None) -> EntrySpec:
        """Add a new version of a paper already in the corpus (the old entry stays too)."""
        old = max((e for e in self.entries if e.arxiv_id == arxiv_id and e.spec), key=lambda e: e.version)
        assert old.spec is not None
        spec = replace(old.spec, version=version, updated=updated or old.published + timedelta(days=1))
        self.add(spec)
        return spec

    def replace_all(self, arxiv_id: str, spec: EntrySpec) -> None:
        """Drop every entry of ``arxiv_id`` and serve ``spec`` instead."""
        self.entries = [e for e in self.entries if e.arxiv_id != arxiv_id]
        self.add(spec)

    def load_file(self, name: str) -> int:
        """Add the entries of a recorded response in ``tests/fixtures/atom/`` verbatim; returns how many."""
        root = etree.fromstring((FIXTURES / name).read_bytes())
        count = 0
        for entry in root.iterfind("atom:entry", _NS):
            raw_id = entry.findtext("atom:id", namespaces=_NS) or ""
            match = _ID_RE.match(raw_id.split("/abs/", 1)[-1])
            if match is None:
                continue
            published = datetime.fromisoformat(
                (entry.findtext("atom:published", namespaces=_NS) or "").replace("Z", "+00:00"))
            cats = tuple(c.get("term") or "" for c in entry.iterfind("atom:category", _NS))
            xml = "  " + etree.tostring(entry, encoding="unicode").strip()
            self.entries.append(_Entry(None, match.group(1), int(match.group(2) or 1), published,
                                       entry.findtext("atom:title", namespaces=_NS) or "", cats, xml))
            count += 1
        return count

    # -- faults and records ------------------------------------------------------------------------------
    def fail(self, fault: Fault, times: int = 1, *, start: int | None = None,
             when: Callable[[Request], bool] | None = None, **options: Any) -> None:
        """Answer the next ``times`` matching requests with ``fault``. Options: ``retry_after`` (429),
        ``seconds`` (stall, default 30), ``extra`` (over-report, default 5), ``message`` (error feeds),
        ``file`` and ``status`` (FILE)."""
        def matches(request: Request) -> bool:
            return (start is None or request.start == start) and (when is None or when(request))
        with self._lock:
            self._faults.append(_Queued(fault, times, matches, options))

    def gaps(self) -> list[float]:
        """Seconds between the arrivals of consecutive requests."""
        times = [r.arrived for r in self.requests]
        return [b - a for a, b in zip(times, times[1:], strict=False)]

    def _take_fault(self, request: Request) -> _Queued | None:
        with self._lock:
            for queued in self._faults:
                if queued.remaining > 0 and queued.when(request):
                    queued.remaining -= 1
                    return queued
        return None

    def _enter(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self, request: Request) -> None:
        with self._lock:
            self._in_flight -= 1
            request.finished = time.monotonic()

    # -- answering ----------------------------------------------------------------------------------------
    def answer(self, query: dict[str, str]) -> tuple[int, str, int]:
        """(status, body, true total) for a query without faults."""
        start = int(query.get("start", "0") or 0)
        size = int(query.get("max_results", "10") or 10)
        if size > MAX_PAGE or start + size > MAX_QUERY:
            return 400, self._error_feed("max_results too large", "http://arxiv.org/api/errors#max"), 1
        if query.get("id_list"):
            found = []
            for wanted in query["id_list"].split(","):
                match = _ID_RE.match(wanted.strip())
                if match is None:
                    msg = f"incorrect id format for {wanted}"
                    error_id = "https://arxiv.org/api/errors#" + msg.replace(" ", "_")
                    return 400, self._error_feed(msg, error_id), 1
                versions = [e for e in self.entries if e.arxiv_id == match.group(1)]
                if match.group(2):
                    versions = [e for e in versions if e.version == int(match.group(2))]
                if versions:
                    found.append(max(versions, key=lambda e: e.version))
            matched = found
        else:
            matched = self._search(query.get("search_query", ""))
            if query.get("sortBy") == "submittedDate":
                matched.sort(key=lambda e: (e.published, e.arxiv_id, e.version),
                             reverse=query.get("sortOrder", "descending") == "descending")
        page = matched[start:start + size]
        return 200, self._feed(query, [e.xml for e in page], len(matched) + self.over_report, start, size), \
            len(matched)

    def _search(self, search: str) -> list[_Entry]:
        matched = list(self.entries)
        date_range = _DATE_RANGE_RE.search(search)
        if date_range:
            low, high = (datetime.strptime(x, "%Y%m%d%H%M").replace(tzinfo=UTC) for x in date_range.groups())
            high += timedelta(minutes=1)  # the upper minute is inclusive
            matched = [e for e in matched if low <= e.published < high]
        cats = set(_CAT_RE.findall(search))
        if cats:
            matched = [e for e in matched if cats & set(e.categories)]
        title = _TITLE_RE.search(search)
        if title:
            phrase = _norm(title.group(1))
            matched = [e for e in matched if phrase in _norm(e.title)]
        return matched

    @staticmethod
    def _feed(query: dict[str, str], entries: list[str], total: int, start: int, size: int) -> str:
        title = "arXiv Query: search_query={}&id_list={}&start={}&max_results={}".format(
            query.get("search_query", ""), query.get("id_list", ""), start, size)
        return feed_xml(entries, total=total, start=start, items_per_page=size, title=title)

    @staticmethod
    def _error_feed(message: str, error_id: str) -> str:
        body = (FIXTURES / "id_abc_s0_m100.xml").read_text()
        return (body.replace("https://arxiv.org/api/errors#incorrect_id_format_for_abc", escape(error_id))
                .replace("incorrect id format for abc", escape(message)))


class _Handler(BaseHTTPRequestHandler):
    arxiv: ArxivServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        request = Request(time.monotonic(), split.path, query, dict(self.headers.items()))
        server = self.arxiv
        server._enter(request)
        try:
            if split.path != "/api/query":
                self._send(404, "not found", "text/plain")
                return
            queued = server._take_fault(request)
            request.fault = queued.fault if queued else None
            self._answer(request, queued)
        finally:
            server._leave(request)

    def _answer(self, request: Request, queued: _Queued | None) -> None:
        server = self.arxiv
        status, body, true_total = server.answer(request.query)
        if queued is None:
            self._send(status, body)
            return
        fault, options = queued.fault, queued.options
        if fault in (Fault.HTTP_500, Fault.HTTP_503):
            self._send(int(fault.value), f"HTTP {fault.value}", "text/plain")
        elif fault is Fault.HTTP_429:
            self._send(429, "Too Many Requests", "text/plain",
                       {"Retry-After": str(options.get("retry_after", "1"))})
        elif fault is Fault.STALL:
            self._stall(float(options.get("seconds", 30.0)))
        elif fault is Fault.DROP:
            self.close_connection = True
        elif fault is Fault.EMPTY_PAGE:
            start = request.start
            size = int(request.query.get("max_results", "10") or 10)
            self._send(200, server._feed(request.query, [], true_total + server.over_report, start, size))
        elif fault is Fault.TRUNCATED:
            self._send(200, body[: len(body) // 2])
        elif fault is Fault.ERROR_200:
            self._send(200, server._error_feed(options.get("message", "try again later"),
                                               "http://arxiv.org/api/errors#try_again"))
        elif fault is Fault.ERROR_400:
            msg = options.get("message", "incorrect id format for abc")
            self._send(400, server._error_feed(msg, "https://arxiv.org/api/errors#" + msg.replace(" ", "_")))
        elif fault is Fault.FILE:
            self._send(int(options.get("status", 200)), (FIXTURES / options["file"]).read_text("utf-8"))
        elif fault is Fault.OVER_REPORT:
            extra = int(options.get("extra", 5))
            self._send(status, re.sub(r"<opensearch:totalResults>(\d+)<",
                                      lambda m: f"<opensearch:totalResults>{int(m.group(1)) + extra}<", body))

    def _stall(self, seconds: float) -> None:
        """Say nothing until the client hangs up, the server stops, or ``seconds`` pass."""
        self.close_connection = True
        deadline = time.monotonic() + seconds
        sock = self.connection
        while time.monotonic() < deadline and not self.arxiv._stop.is_set():
            readable, _, _ = select.select([sock], [], [], 0.02)
            if readable:
                try:
                    if not sock.recv(1, socket.MSG_PEEK):
                        return  # the client gave up
                except OSError:
                    return
                time.sleep(0.02)

    def _send(self, status: int, body: str, content_type: str = "application/atom+xml; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


@pytest.fixture
def arxiv_server() -> Iterator[ArxivServer]:
    """A started loopback arXiv server with an empty corpus; stopped after the test."""
    server = ArxivServer().start()
    try:
        yield server
    finally:
        server.stop()
