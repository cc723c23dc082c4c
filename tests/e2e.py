"""End-to-end harness: moto's server and the served GitHub fake on 127.0.0.1, and the
installed `ghbootstrap` console script run as a subprocess, the way users run it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from tests.fakes.github import FakeGitHub
from tests.fakes.serve import serving

SCRIPT = Path(sys.executable).with_name("ghbootstrap")
REGION = "us-east-1"


@dataclass
class Stack:
    aws_url: str
    github_url: str
    github: FakeGitHub
    script: Path = SCRIPT

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "GITHUB_API_URL": self.github_url,
            "GITHUB_TOKEN": self.github.token,
        }
        env.update(extra)
        return env

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def reset(self) -> None:
        requests.post(f"{self.aws_url}/moto-api/reset", timeout=10).raise_for_status()

    def run(
        self, *args: str, cwd: Path | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.script), *args],
            capture_output=True,
            text=True,
            env=self.env(**env),
            cwd=cwd,
            timeout=120,
            check=False,
        )


class _OneRequestAtATime(ThreadedMotoServer):
    """moto's server, answering one request at a time: its backends are plain dicts, and
    `apply --jobs` workers reading while others delete can break moto's iteration over
    them. AWS answers concurrent requests consistently; this is the closest moto comes."""

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def one_at_a_time(environ: Any, start_response: Any) -> list[bytes]:
            with lock:
                return list(app(environ, start_response))

        self._server = make_server(
            self._ip_address, self._port, one_at_a_time, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.02)  # stop() waits one interval


@contextmanager
def stack(github: FakeGitHub) -> Iterator[Stack]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    server = _OneRequestAtATime(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        with serving(github) as github_url:
            yield Stack(f"http://{host}:{port}", github_url, github)
    finally:
        server.stop()
