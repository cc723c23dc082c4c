"""Every request the tool sends to the GitHub fake, and every answer the fake gives, checked
against GitHub's published OpenAPI description (vendored in tests/openapi/).

A request GitHub would reject (an unknown path, a missing or mistyped field) is a
violation, and so is a documented response whose body does not match its schema. GitHub
answers errors its description does not list (404 on a missing secret, 422 on a bad
write); every error answer must carry GitHub's `message`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import parse_qsl

from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.fakes.github import Request, Response, spec

SERVER = "https://api.github.com"


@cache
def github_api() -> OpenAPI:
    # GitHub's own media types carry JSON too (`application/vnd.github.object`).
    json_too = {"application/vnd.github.object": json.loads}
    return OpenAPI.from_dict(spec(), config=Config(extra_media_type_deserializers=json_too))


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    return [
        (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
        for template in spec()["paths"]
    ]


def documented_statuses(method: str, path: str) -> set[str]:
    template = next(t for pattern, t in _templates() if pattern.match(path))
    return set(spec()["paths"][template][method.lower()]["responses"])


def _media_type(request: Request, response: Response) -> str:
    """The media type the request asked for in `Accept`, when GitHub documents it for this
    answer (`application/vnd.github.object`: a folder as one object), else JSON."""
    accept = {k.lower(): v for k, v in request.headers.items()}.get("accept", "")
    template = next(t for pattern, t in _templates() if pattern.match(request.path))
    answers = spec()["paths"][template][request.method.lower()]["responses"]
    documented = answers.get(str(response.status), {}).get("content", {})
    return accept if accept in documented else "application/json"


def describe(exc: BaseException) -> str:
    """openapi-core's message, plus the schema errors it keeps on the cause."""
    details = [str(exc)]
    cause = exc.__cause__
    for error in getattr(cause, "schema_errors", None) or ():
        where = "/".join(str(p) for p in error.absolute_path)
        details.append(f"{where}: {error.message}" if where else error.message)
    return "; ".join(details)


def _request(method: str, path: str, query: str, raw: bytes | None) -> MockRequest:
    return MockRequest(
        SERVER,
        method.lower(),
        path,
        args=dict(parse_qsl(query)),
        data=raw,
        content_type="application/json" if raw is not None else None,
    )


# The same request, or the same answer to it, gets the same verdict: tests repeat most of
# them (three in four requests, two in three answers), so each is checked once a process.
@cache
def request_finding(method: str, path: str, query: str, raw: bytes | None) -> str | None:
    """What GitHub's description rejects in this request, or None."""
    try:
        github_api().validate_request(_request(method, path, query, raw))
    except Exception as exc:  # openapi-core raises several kinds; all are findings
        return describe(exc)
    return None


@cache
def response_finding(
    method: str,
    path: str,
    query: str,
    raw: bytes | None,
    status: int,
    body: bytes,
    media_type: str | None,
) -> str | None:
    """What GitHub's description rejects in this documented answer, or None."""
    answer = MockResponse(body, status_code=status, content_type=media_type)
    try:
        github_api().validate_response(_request(method, path, query, raw), answer)
    except Exception as exc:
        return describe(exc)
    return None


def _asked_conditionally(request: Request) -> bool:
    headers = {k.lower() for k in request.headers}
    return request.method == "GET" and "if-none-match" in headers


@dataclass
class Contract:
    violations: list[str] = field(default_factory=list)
    requests: int = 0
    responses: int = 0

    def observe(self, request: Request, response: Response) -> None:
        raw = None if request.body is None else json.dumps(request.body).encode()
        label = f"{request.method} {request.path}"
        found = request_finding(request.method, request.path, request.query, raw)
        if found is not None:
            self.violations.append(f"request {label}: {found}")
            return
        self.requests += 1
        self._check_response(request, raw, label, response)

    def _check_response(
        self, request: Request, raw: bytes | None, label: str, response: Response
    ) -> None:
        documented = documented_statuses(request.method, request.path)
        if response.status == 304:
            # GitHub answers any conditional GET this way (docs: "Use conditional
            # requests"), though its description lists 304 on a few operations only.
            if response.body is not None or not _asked_conditionally(request):
                self.violations.append(f"response {label}: 304 to an unconditional request")
            return
        if response.status >= 400:
            # Errors carry GitHub's `message`. Their documented schemas are not checked:
            # some are a oneOf of two open objects, which no body can satisfy.
            body = response.body if isinstance(response.body, dict) else {}
            if not isinstance(body.get("message"), str):
                self.violations.append(f"response {label}: {response.status} without a message")
            return
        if str(response.status) not in documented:
            self.violations.append(f"response {label}: undocumented {response.status}")
            return
        found = response_finding(
            request.method,
            request.path,
            request.query,
            raw,
            response.status,
            response.encoded(),
            _media_type(request, response) if response.body is not None else None,
        )
        if found is not None:
            self.violations.append(f"response {label} {response.status}: {found}")
            return
        self.responses += 1
