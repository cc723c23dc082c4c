"""Retries for GitHub: rate limits waited out within a budget, nothing else waited on.

- 403 or 429 with `Retry-After`, or with `x-ratelimit-remaining: 0` and a reset time:
  wait as long as GitHub asks, while the total wait stays within the budget; past it,
  stop at once and let the caller say when the limit resets.
- 429 without those headers: exponential backoff.
- 403 that is not a rate limit (a token without permission): never retried.
- 5xx: retried with backoff, except POST (creating a variable may have landed).
- Connection errors: one retry, so an unreachable GitHub fails in seconds.

Every rate-limit wait goes through the process's one gate (pacing.GATE), so in `apply`
one limit answer backs off every worker, not only the one that received it.
"""

from __future__ import annotations

import time
from typing import Any

from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from ghbootstrap.github.pacing import GATE

RATE_LIMIT_BUDGET = 60.0
_SERVER_ERRORS = frozenset({500, 502, 503, 504})


def rate_limit_wait(status: int, headers: Any, now: float | None = None) -> float | None:
    """Seconds GitHub asks a client to wait, or None if this answer is not a rate limit."""
    if status not in (403, 429):
        return None
    headers = {str(k).lower(): str(v) for k, v in headers.items()}
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    reset = headers.get("x-ratelimit-reset", "")
    if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return max(0.0, int(reset) - (time.time() if now is None else now)) + 1.0
    return None


class GitHubRetry(Retry):
    def __init__(self, *, budget: float = RATE_LIMIT_BUDGET, waited: float = 0.0, **kw: Any):
        kw.setdefault("total", 5)
        kw.setdefault("connect", 1)
        kw.setdefault("read", 1)
        kw.setdefault("backoff_factor", 0.5)
        kw.setdefault("backoff_max", 8)
        kw.setdefault("status_forcelist", frozenset({403, 429} | _SERVER_ERRORS))
        kw.setdefault("allowed_methods", frozenset({"GET", "PUT", "PATCH", "DELETE", "POST"}))
        kw.setdefault("raise_on_status", False)  # the final answer reaches PyGithub as is
        super().__init__(**kw)
        self.budget = budget
        self.waited = waited

    def new(self, **kw: Any) -> GitHubRetry:
        kw.setdefault("budget", self.budget)
        kw.setdefault("waited", self.waited)
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in _SERVER_ERRORS and method.upper() == "POST":
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> GitHubRetry:
        wait = 0.0
        if response is not None and response.status in (403, 429):
            asked = rate_limit_wait(response.status, response.headers)
            if asked is None and response.status == 403:
                raise MaxRetryError(_pool, url or "", Exception("403 is not a rate limit"))
            wait = asked if asked is not None else self.backoff_max
            if self.waited + wait > self.budget:
                raise MaxRetryError(_pool, url or "", Exception("rate limit outlasts the budget"))
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        retry.waited = self.waited + wait
        if wait and response.status in (403, 429) and self.total is not None:
            retry.total = self.total  # rate limits are bounded by the budget, not a count
        return retry

    def sleep(self, response: Any = None) -> None:
        """A rate-limit answer closes the shared gate, so every worker waits with us."""
        if response is not None and response.status in (403, 429):
            asked = rate_limit_wait(response.status, response.headers)
            GATE.back_off(asked if asked is not None else self.get_backoff_time())
            return
        super().sleep(response)

    def get_retry_after(self, response: Any) -> float | None:
        return rate_limit_wait(response.status, response.headers) or super().get_retry_after(
            response
        )
