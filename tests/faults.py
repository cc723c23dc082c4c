"""Make chosen AWS or GitHub calls fail, to prove every failure leaves a state a re-run repairs.

AWS: a botocore `before-call` hook that answers instead of AWS (an HTTP 500 with an error
code), so the call fails as a real one would, before anything reaches moto. GitHub: a fault
in the fake that answers before the request is handled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ghbootstrap.aws.session import Aws
from tests.fakes.github import FakeGitHub, Request, Response


@dataclass
class _Http:
    status_code: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""


def _never(name: str, n: int) -> bool:
    return False


class AwsFaults:
    """Fail AWS calls whose name ('iam.TagUser') matches, counting from the first."""

    def __init__(self, aws: Aws) -> None:
        self.seen = 0
        self.fired: list[str] = []
        self._rule: Callable[[str, int], bool] = _never
        # Clients made from now on copy the session's hooks; existing ones need their own.
        aws.session.events.register_first("before-call", self._before_call)
        for client in aws._clients.values():
            client.raw.meta.events.register_first("before-call", self._before_call)

    def fail(self, rule: Callable[[str, int], bool]) -> None:
        """`rule(name, n)`: n counts every AWS call from 1."""
        self._rule = rule

    def fail_on(self, operation: str, times: int = 1) -> None:
        remaining = [times]

        def rule(name: str, n: int) -> bool:
            if name == operation and remaining[0] > 0:
                remaining[0] -= 1
                return True
            return False

        self.fail(rule)

    def clear(self) -> None:
        self._rule = _never

    def _before_call(self, event_name: str, **_: Any) -> tuple[_Http, dict[str, Any]] | None:
        _, service, operation = event_name.split(".")
        self.seen += 1
        name = f"{service}.{operation}"
        if not self._rule(name, self.seen):
            return None
        self.fired.append(name)
        error = {"Code": "ServiceFailure", "Message": f"injected failure of {name}"}
        return _Http(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 500}}


def fail_github(
    fake: FakeGitHub,
    match: Callable[[Request], bool],
    times: int = 1,
    skip: int = 0,
    status: int = 422,
    message: str = "injected failure",
    headers: dict[str, str] | None = None,
) -> list[str]:
    """Let `skip` matching requests through, then answer the next `times` with an error.
    Returns what fired. 422 by default: an answer no retry changes (a 5xx is retried)."""
    fired: list[str] = []
    matched = [0]

    def fault(request: Request) -> Response | None:
        if not match(request):
            return None
        matched[0] += 1
        if matched[0] > skip and len(fired) < times:
            fired.append(f"{request.method} {request.path}")
            return Response(status, {"message": message}, dict(headers or {}))
        return None

    fake.faults.append(fault)
    return fired


def put_secret(name: str) -> Callable[[Request], bool]:
    return lambda r: r.method == "PUT" and r.path.endswith(f"/secrets/{name}")
