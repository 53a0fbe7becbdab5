"""The LLM judge's client: one POST to ``{url}/chat/completions`` per paper, paced, retried within a budget.

Any OpenAI-compatible chat-completions endpoint serves (GitHub Models, llama.cpp, Ollama, vLLM). The judge
is advice: ``Judge.ask`` returns a ``JudgeVerdict`` or None, and None means "keep the local prediction".
A timeout, a refused connection, a 4xx or 5xx answer, an answer that is not the JSON asked for, a label
outside the five and an exhausted budget each give None and one log line naming the host, the status and
the attempt; never the token, never the prompt. 429 and 5xx answers, timeouts and connection errors are
retried (at least ``Retry-After`` apart) while ``retry_budget_seconds`` lasts: the run's total time spent
on failed attempts and waits. Once it is spent, the judge asks nothing more this run. A 400 about
``response_format`` makes it ask with the next, looser format (json_schema, json_object, none) for the
rest of the run.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.core.config import JudgeSettings
from bot.core.models import JudgeVerdict, Paper
from bot.core.retry import parse_retry_after
from bot.judge.prompt import FORMATS, parse_answer, request_body

log = logging.getLogger(__name__)

BACKOFF_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 60.0


def _about_response_format(response: httpx.Response) -> bool:
    """A 400 that names ``response_format`` (or ``json_schema``): the server does not take that format."""
    text = response.text.lower()
    return "response_format" in text or "json_schema" in text or "response format" in text


class Judge:
    """Asks one endpoint about papers; ``requests`` counts the HTTP requests sent this run."""

    def __init__(self, settings: JudgeSettings, rubric: str, *,
                 transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 backoff_seconds: float = BACKOFF_SECONDS) -> None:
        if not settings.url:
            raise ValueError("the judge needs a URL")
        self.settings = settings
        self.rubric = rubric
        self.host = urlsplit(settings.url).netloc
        self._endpoint = f"{settings.url.rstrip('/')}/chat/completions"
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
        self._client = httpx.Client(headers=headers, timeout=settings.timeout_seconds, transport=transport,
                                    follow_redirects=False)
        self._clock, self._sleep, self._backoff = clock, sleep, backoff_seconds
        self._format = 0  # index into FORMATS
        self._last_request: float | None = None
        self.spent = 0.0  # seconds of the retry budget used
        self.requests = 0

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.settings.retry_budget_seconds

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, paper: Paper, status: str, attempt: int) -> None:
        log.warning("judge: %s answered %s on attempt %d for %s; keeping the local prediction",
                    self.host, status, attempt, paper.arxiv_id)

    def _pace(self) -> None:
        if self._last_request is not None:
            wait = self.settings.seconds_between_requests - (self._clock() - self._last_request)
            if wait > 0:
                self._sleep(wait)
        self._last_request = self._clock()

    def _wait_to_retry(self, attempt: int, retry_after: float | None) -> bool:
        """Sleep before the next attempt if the retries and the budget allow it; False when they do not."""
        if attempt > self.settings.max_retries:
            return False
        wait = retry_after if retry_after is not None else min(BACKOFF_MAX_SECONDS,
                                                               self._backoff * 2 ** (attempt - 1))
        if self.spent + wait > self.settings.retry_budget_seconds:
            self.spent = self.settings.retry_budget_seconds
            return False
        self.spent += wait
        self._sleep(wait)
        return True

    def ask(self, paper: Paper) -> JudgeVerdict | None:
        """The judge's verdict on ``paper``, or None (logged) when there is none to be had."""
        if self.exhausted:
            self._fail(paper, "nothing: the retry budget is spent", 0)
            return None
        attempt = 0
        while True:
            attempt += 1
            fmt = FORMATS[self._format]
            self._pace()
            started = self._clock()
            self.requests += 1
            try:
                response = self._client.post(self._endpoint,
                                             json=request_body(paper, self.rubric, self.settings.model, fmt))
            except httpx.TimeoutException:
                self.spent += self._clock() - started
                if self._wait_to_retry(attempt, None):
                    continue
                self._fail(paper, "nothing (timed out)", attempt)
                return None
            except httpx.HTTPError as exc:
                self.spent += self._clock() - started
                if self._wait_to_retry(attempt, None):
                    continue
                self._fail(paper, f"nothing ({type(exc).__name__})", attempt)
                return None
            status = response.status_code
            if status == 400 and fmt != "plain" and _about_response_format(response):
                self._format += 1
                log.info("judge: %s refused response_format %s; asking with %s from now on", self.host, fmt,
                         FORMATS[self._format])
                attempt -= 1  # a looser format is not a retry
                continue
            if status == 429 or status >= 500:
                self.spent += self._clock() - started
                if self._wait_to_retry(attempt, parse_retry_after(response.headers.get("Retry-After"))):
                    continue
                self._fail(paper, f"HTTP {status}", attempt)
                return None
            if status != 200:
                self._fail(paper, f"HTTP {status}", attempt)
                return None
            return self._verdict(paper, response, attempt)

    def _verdict(self, paper: Paper, response: httpx.Response, attempt: int) -> JudgeVerdict | None:
        try:
            payload: Any = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._fail(paper, "HTTP 200 but not JSON", attempt)
            return None
        try:
            return parse_answer(payload, self.settings.model)
        except ValueError as exc:
            self._fail(paper, f"HTTP 200 but {exc}", attempt)
            return None
