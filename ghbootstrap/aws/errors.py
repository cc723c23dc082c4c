"""Translate botocore's exceptions into one-line `AwsError`s that say what to do."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import botocore.exceptions

from ghbootstrap.errors import AwsError

T = TypeVar("T")
NO_SUCH_ENTITY = frozenset({"NoSuchEntity"})


def absent_as_none(read: Callable[[], T], missing: frozenset[str] = NO_SUCH_ENTITY) -> T | None:
    """A read whose "it does not exist" answer means None."""
    try:
        return read()
    except AwsError as exc:
        if exc.code in missing:
            return None
        raise


_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
}


def translate(exc: Exception, service: str, api_name: str) -> AwsError:
    """`api_name` is the API's own name (CreateRole), so `action` is the IAM action."""
    action = f"{service}:{api_name}"
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = _one_line(str(error.get("Message", "")))
        if code in _DENIED:
            return AwsError(
                f"AWS denied {action}",
                f"grant {action} to the identity ghbootstrap runs as ({message or code})",
                code=code,
                action=action,
            )
        if code in _BAD_CREDENTIALS:
            return AwsError(
                f"AWS rejected the credentials ({code}) on {action}",
                "refresh them: `aws sso login`, a new session token, or check AWS_PROFILE",
                code=code,
                action=action,
            )
        if code in _THROTTLED:
            return AwsError(
                f"AWS kept throttling {action} after retries",
                "wait a minute and run the command again",
                code=code,
                action=action,
            )
        return AwsError(
            f"{action} failed: {code}" + (f" ({message})" if message else ""),
            code=code,
            action=action,
        )
    if isinstance(
        exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError
    ):
        return AwsError(
            "no AWS credentials found",
            "set AWS_PROFILE or pass --profile, run `aws sso login`, or export AWS_ACCESS_KEY_ID",
        )
    if isinstance(
        exc, botocore.exceptions.ConnectTimeoutError | botocore.exceptions.EndpointConnectionError
    ):
        return AwsError(
            f"cannot reach AWS for {action}",
            "check your network, proxy and AWS_ENDPOINT_URL",
        )
    if isinstance(exc, botocore.exceptions.ReadTimeoutError):
        return AwsError(f"AWS did not answer {action} in time", "run the command again")
    return AwsError(f"{action} failed: {_one_line(str(exc))}")


def _one_line(text: str) -> str:
    return " ".join(text.split())
