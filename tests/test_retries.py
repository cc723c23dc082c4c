"""Throttling, rate limits and eventual consistency: waited out, bounded, then explained."""

from __future__ import annotations

import time
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from ghbootstrap.aws import role
from ghbootstrap.aws.eventual_consistency import settle
from ghbootstrap.aws.session import Aws
from ghbootstrap.errors import AwsError, GitHubError
from ghbootstrap.github.api import GitHub, Holder
from ghbootstrap.github.connect import connect
from ghbootstrap.secret import Secret
from ghbootstrap.target import RepoRef
from tests.contract import Contract
from tests.fakes.github import FakeGitHub
from tests.fakes.serve import serving
from tests.faults import fail_github

REF = RepoRef("Octo", "Hello")


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every sleep anyone asks for, recorded instead of slept."""
    asked: list[float] = []
    monkeypatch.setattr(time, "sleep", asked.append)
    return asked


@pytest.fixture
def served(contract: Contract) -> Iterator[tuple[FakeGitHub, GitHub]]:
    """Real HTTP on loopback: urllib3's retry logic only runs on a real connection."""
    fake = FakeGitHub()
    fake.add_repo("Octo/Hello")
    fake.observers.append(contract.observe)
    with serving(fake) as url:
        yield fake, connect(url, Secret(fake.token))


def rate_limited(reset_in: int) -> dict[str, str]:
    return {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + reset_in)}


def test_primary_rate_limit_is_waited_out_until_reset(
    served: tuple[FakeGitHub, GitHub], sleeps: list[float]
) -> None:
    fake, gh = served
    fail_github(
        fake, lambda r: True, status=403, message="API rate limit exceeded", headers=rate_limited(3)
    )
    assert gh.repository(REF).name == "Hello"
    assert len(fake.requests) == 2
    assert len(sleeps) == 1
    assert 2.0 <= sleeps[0] <= 4.5


def test_429_with_retry_after_is_honoured(
    served: tuple[FakeGitHub, GitHub], sleeps: list[float]
) -> None:
    fake, gh = served
    fail_github(
        fake, lambda r: True, times=2, status=429, message="slow down", headers={"Retry-After": "7"}
    )
    assert gh.variable(Holder("Octo", "Hello"), "X") is None
    assert sleeps == [7.0, 7.0]
    assert len(fake.requests) == 3


def test_a_403_that_is_not_a_rate_limit_is_not_retried(
    served: tuple[FakeGitHub, GitHub], sleeps: list[float]
) -> None:
    fake, gh = served
    fail_github(fake, lambda r: True, status=403, message="Resource not accessible")
    with pytest.raises(GitHubError) as caught:
        gh.repository(REF)
    assert len(fake.requests) == 1
    assert sleeps == []
    assert "give the token Metadata: read" in str(caught.value)


def test_a_limit_that_resets_too_late_stops_at_once_with_when(
    served: tuple[FakeGitHub, GitHub], sleeps: list[float]
) -> None:
    fake, gh = served
    fail_github(
        fake,
        lambda r: True,
        status=403,
        message="API rate limit exceeded",
        headers=rate_limited(3600),
    )
    with pytest.raises(GitHubError) as caught:
        gh.repository(REF)
    assert sleeps == []
    assert len(fake.requests) == 1
    message = str(caught.value)
    assert message.startswith("GitHub's rate limit stopped the attempt to read Octo/Hello")
    assert "the limit resets in about 360" in message
    assert message.endswith("s: run the command again then")


def test_the_total_wait_is_bounded(served: tuple[FakeGitHub, GitHub], sleeps: list[float]) -> None:
    fake, gh = served
    fail_github(
        fake,
        lambda r: True,
        times=10,
        status=429,
        message="secondary rate limit",
        headers={"Retry-After": "25"},
    )
    with pytest.raises(GitHubError, match="rate limit stopped"):
        gh.repository(REF)
    assert sleeps == [25.0, 25.0]  # a third wait would pass the 60 s budget
    assert len(fake.requests) == 3


def test_server_errors_are_retried_but_not_for_post(
    served: tuple[FakeGitHub, GitHub], sleeps: list[float]
) -> None:
    fake, gh = served
    fail_github(fake, lambda r: r.method == "GET", times=2, status=502)
    assert gh.repository(REF).name == "Hello"
    assert len(fake.requests) == 3
    before = len(fake.requests)
    fail_github(fake, lambda r: r.method == "POST", status=502)
    with pytest.raises(GitHubError, match="returned 502"):
        gh.create_variable(Holder("Octo", "Hello"), "X", "1")  # a create may have landed
    assert len(fake.requests) == before + 1


# -- AWS --------------------------------------------------------------------------------------


class _Raw(BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.read()


THROTTLED = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
    b"<Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>"
)


def throttle(aws: Aws, times: int) -> list[str]:
    """Answer the next `times` IAM requests with Throttling, before moto sees them."""
    seen: list[str] = []

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        if len(seen) >= times:
            return None
        seen.append(request.url)
        return AWSResponse(request.url, 400, {}, _Raw(THROTTLED))

    aws.iam.raw.meta.events.register_first("before-send.iam", before_send)
    return seen


def test_throttling_is_retried_not_reported(aws: Aws, sleeps: list[float]) -> None:
    throttle(aws, times=3)
    assert role.get_role(aws.iam, "nope") is None
    assert len(sleeps) == 3
    assert all(s <= 2**i for i, s in enumerate(sleeps, start=1))


def test_throttling_that_never_stops_gives_up_bounded(aws: Aws, sleeps: list[float]) -> None:
    attempts = throttle(aws, times=100)
    with pytest.raises(AwsError) as caught:
        role.get_role(aws.iam, "nope")
    assert len(attempts) == 5
    assert sum(sleeps) <= 1 + 2 + 4 + 8  # botocore's jittered backoff: at most 15 s
    assert str(caught.value) == (
        "AWS kept throttling iam:GetRole after retries: wait a minute and run the command again"
    )


def test_eventual_consistency_is_retried_with_backoff(sleeps: list[float]) -> None:
    calls: list[int] = []

    def attach() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise AwsError("iam:AttachRolePolicy failed", code="NoSuchEntity")
        return "attached"

    assert settle(attach) == "attached"
    assert sleeps == [0.5, 1.0]


def test_eventual_consistency_gives_up_with_the_real_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))

    def never() -> None:
        raise AwsError("iam:AttachRolePolicy failed: NoSuchEntity", code="NoSuchEntity")

    with pytest.raises(AwsError, match="iam:AttachRolePolicy failed: NoSuchEntity"):
        settle(never)
    assert 30.0 <= clock[0] <= 31.0


def test_other_errors_are_not_retried(sleeps: list[float]) -> None:
    def denied() -> None:
        raise AwsError("AWS denied iam:AttachRolePolicy", code="AccessDenied")

    with pytest.raises(AwsError, match="denied"):
        settle(denied)
    assert sleeps == []


def test_one_limit_answer_backs_off_every_client_of_the_process(
    served: tuple[FakeGitHub, GitHub], sleeps: list[float]
) -> None:
    """apply's workers each have their own client: the one that hears the limit makes
    the others wait too, before they send anything."""
    fake, first = served
    second = connect(first.api_url, Secret(fake.token))
    fail_github(fake, lambda r: True, status=429, message="slow down", headers={"Retry-After": "5"})
    assert first.repository(REF).name == "Hello"
    sent = len(fake.requests)
    assert second.repository(REF).name == "Hello"
    assert sleeps[0] == 5.0  # the client that got the answer
    assert len(sleeps) == 2
    assert 4.0 < sleeps[1] <= 5.0
    assert len(fake.requests) == sent + 1


def test_a_gate_closed_beyond_the_budget_fails_at_once_without_a_request(
    served: tuple[FakeGitHub, GitHub], sleeps: list[float]
) -> None:
    from ghbootstrap.github.pacing import GATE

    fake, gh = served
    GATE.hold(600)
    with pytest.raises(GitHubError) as failed:
        gh.repository(REF)
    assert str(failed.value).startswith(
        "GitHub's rate limit stopped the attempt to read Octo/Hello: the limit resets in about"
    )
    assert fake.requests == []
    assert sleeps == []


def test_a_spent_primary_limit_holds_the_next_request_until_the_reset(
    served: tuple[FakeGitHub, GitHub], sleeps: list[float]
) -> None:
    fake, gh = served
    fake.observers.append(lambda request, answer: answer.headers.update(rate_limited(3)))
    gh.repository(REF)  # answered, and it was the last request of the hour
    gh.repository(REF)
    assert len(sleeps) == 1
    assert 2.0 <= sleeps[0] <= 4.5
