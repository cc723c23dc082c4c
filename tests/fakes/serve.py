"""Put a FakeGitHub on the wire: behind `responses` in-process, or on 127.0.0.1."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import responses

from tests.fakes.github import FakeGitHub

GITHUB_API = "https://api.github.com"
# A GitHub Enterprise Server: its REST API under /api/v3, its Actions tokens from
# https://github.example.com/_services/token. The same fake answers both.
GHES_API = "https://github.example.com/api/v3"
GHES_ISSUER = "https://github.example.com/_services/token"
_ANY_GITHUB_URL = re.compile(r"https://api\.github\.com(:443)?/.*")
_ANY_GHES_URL = re.compile(r"https://github\.example\.com(:443)?/api/v3/.*")
_GHES_PREFIX = re.compile(r"(?<=^https://github\.example\.com)/api/v3/")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def install(fake: FakeGitHub, rsps: responses.RequestsMock) -> None:
    """Route every request for api.github.com (PyGithub adds :443), and for the GitHub
    Enterprise Server at GHES_API, to the fake."""

    def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        url = _GHES_PREFIX.sub("/", request.url.replace(":443/", "/", 1), count=1)
        answer = fake.handle(request.method, url, dict(request.headers), body)
        headers = {"Content-Type": "application/json", **answer.headers}
        return answer.status, headers, answer.encoded()

    for method in _METHODS:
        rsps.add_callback(method, _ANY_GITHUB_URL, callback=callback)
        rsps.add_callback(method, _ANY_GHES_URL, callback=callback)


@contextmanager
def serving(fake: FakeGitHub, port: int = 0) -> Iterator[str]:
    """Serve the fake over HTTP on 127.0.0.1; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body go out in two writes: without TCP_NODELAY, Nagle's
        # algorithm holds the body until the client's delayed ACK, ~40 ms an answer.
        disable_nagle_algorithm = True

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else None
            answer = fake.handle(self.command, self.path, dict(self.headers), raw)
            payload = answer.encoded()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    # shutdown() waits for the loop's next look at its flag: every 0.5 s by default
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
