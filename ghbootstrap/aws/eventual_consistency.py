"""IAM is eventually consistent: for seconds after a create, calls that use the new
entity can fail as if it did not exist. Those calls are retried with backoff, bounded."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ghbootstrap.aws.errors import NO_SUCH_ENTITY
from ghbootstrap.errors import AwsError, GhbError
from ghbootstrap.poll import until

T = TypeVar("T")
SETTLE_TIMEOUT = 30.0
NOT_YET_VISIBLE = NO_SUCH_ENTITY
# CreateRole names the OIDC provider in its trust: IAM may call it an invalid principal.
PRINCIPAL_NOT_YET_VISIBLE = frozenset({"MalformedPolicyDocument"})


def settle(
    call: Callable[[], T],
    *,
    codes: frozenset[str] = NOT_YET_VISIBLE,
    timeout: float = SETTLE_TIMEOUT,
) -> T:
    """Run `call`, retrying while it fails with one of `codes`; then fail as it did."""
    last: list[AwsError] = []

    def attempt() -> tuple[T] | None:
        try:
            return (call(),)
        except AwsError as exc:
            if exc.code not in codes:
                raise
            last[:] = [exc]
            return None

    try:
        return until(attempt, timeout=timeout, what="IAM settling")[0]
    except GhbError as timed_out:
        if last and timed_out is not last[0] and not isinstance(timed_out, AwsError):
            raise last[0] from None
        raise
