"""A loopback fake of an OpenAI-compatible chat-completions endpoint, for the LLM judge's tests.

A real HTTP server on 127.0.0.1 (stdlib ``ThreadingHTTPServer`` in a thread) answering
``POST /v1/chat/completions``. It reads the paper's id from the data block of the user message and answers
``verdicts[id]`` (else ``default``). Tests assert on ``requests`` (each body as received, and its headers)
and inject faults with ``fail(kind, times)``: ``500``, ``429`` (``retry_after``), ``stall`` (``seconds``),
``invalid_json``, ``bad_label``; ``refuse_formats`` makes it answer 400 to those ``response_format`` types,
as servers without structured output do. Register the ``llm_server`` fixture with
``pytest_plugins = ["tests.support.llm_server"]``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.loopback import close, serve

DATA_OPEN, DATA_CLOSE = "<paper-data>", "</paper-data>"


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def user(self) -> str:
        return next(m["content"] for m in self.body["messages"] if m["role"] == "user")

    @property
    def data(self) -> dict[str, Any]:
        """The paper data block of the user message, parsed."""
        inner = self.user.split(DATA_OPEN, 1)[1].split(DATA_CLOSE, 1)[0]
        return json.loads(inner)


@dataclass
class _Fault:
    kind: str
    remaining: int
    options: dict[str, Any] = field(default_factory=dict)


class LLMServer:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.verdicts: dict[str, dict[str, Any]] = {}
        self.default: dict[str, Any] = {"label": "pruning", "secondary": None,
                                        "reason": "It caches features across denoising steps."}
        self.refuse_formats: set[str] = set()
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> LLMServer:
        server = self

        class Handler(_Handler):
            llm = server

        self._httpd = serve(Handler)
        return self

    def stop(self) -> None:
        close(self._httpd)

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def settings(self, **overrides: Any) -> Any:
        """``JudgeSettings`` pointed at this server, with fast test timings."""
        from bot.core.config import JudgeSettings

        values: dict[str, Any] = dict(url=self.url, model="test/judge", token="sk-LOOPBACK-SECRET",
                                      timeout_seconds=2.0, max_retries=2, retry_budget_seconds=10.0,
                                      seconds_between_requests=0.0)
        values.update(overrides)
        return JudgeSettings(**values)

    def fail(self, kind: str, times: int = 1, **options: Any) -> None:
        with self._lock:
            self._faults.append(_Fault(kind, times, options))

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None


class _Handler(BaseHTTPRequestHandler):
    llm: LLMServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a stall)
            self.close_connection = True

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        received = Received(body, {k.lower(): v for k, v in self.headers.items()})
        server = self.llm
        with server._lock:
            server.requests.append(received)
        if self.path != "/v1/chat/completions":
            self._send(404, {"error": {"message": "not found"}})
            return
        fmt = (body.get("response_format") or {}).get("type")
        if fmt in server.refuse_formats:
            message = f"Invalid parameter: 'response_format' of type '{fmt}' is not supported."
            self._send(400, {"error": {"message": message, "type": "invalid_request_error"}})
            return
        fault = server._next_fault()
        if fault is not None:
            if fault.kind == "500":
                self._send(500, {"error": {"message": "internal error"}})
                return
            if fault.kind == "429":
                self._send(429, {"error": {"message": "rate limited"}},
                           {"Retry-After": str(fault.options.get("retry_after", 0))})
                return
            if fault.kind == "stall":
                time.sleep(float(fault.options.get("seconds", 3.0)))
            if fault.kind == "invalid_json":
                self._send(200, self._completion("{label: pruning, this is not JSON"))
                return
            if fault.kind == "bad_label":
                self._send(200, self._completion(json.dumps({"label": "caching", "secondary": None,
                                                             "reason": "x"})))
                return
        try:
            arxiv_id = received.data.get("arxiv_id", "")
        except (IndexError, json.JSONDecodeError):
            arxiv_id = ""
        answer = server.verdicts.get(arxiv_id, server.default)
        self._send(200, self._completion(json.dumps(answer)))

    @staticmethod
    def _completion(content: str) -> dict[str, Any]:
        return {"id": "chatcmpl-test", "object": "chat.completion", "model": "test/judge",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}]}


@pytest.fixture
def llm_server() -> Iterator[LLMServer]:
    server = LLMServer().start()
    try:
        yield server
    finally:
        server.stop()
