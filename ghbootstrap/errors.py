"""One exception hierarchy. The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DRIFT = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class GhbError(Exception):
    """Something failed. `what` says what; `fix` says what the user can do about it."""

    exit_code = EXIT_FAILURE

    def __init__(self, what: str, fix: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.what}: {self.fix}" if self.fix else self.what


class UsageError(GhbError):
    """Bad input, caught before any network call."""

    exit_code = EXIT_USAGE


class Interrupted(GhbError):
    """The user pressed Ctrl-C."""

    exit_code = EXIT_INTERRUPTED


class ConflictError(GhbError):
    """Something exists that the tool did not make, and it will not take it over."""


class TrustChangedByHand(ConflictError):
    """A role's trust holds what ghbootstrap did not write: replaced only with --force, and
    no command is printed that would replace it."""


class AwsError(GhbError):
    """AWS refused or could not be reached. `code` is AWS's error code, if it gave one."""

    def __init__(self, what: str, fix: str = "", *, code: str = "", action: str = "") -> None:
        super().__init__(what, fix)
        self.code = code
        self.action = action


class GitHubError(GhbError):
    """GitHub refused or could not be reached. `status` is the HTTP status, 0 if none."""

    def __init__(
        self, what: str, fix: str = "", *, status: int = 0, rate_limited: bool = False
    ) -> None:
        super().__init__(what, fix)
        self.status = status
        self.rate_limited = rate_limited

    @property
    def refused(self) -> bool:
        """GitHub answered, and said no: the request did not happen. A timeout, a dropped
        connection, a 5xx or a rate limit outlasting the wait leave the outcome unknown."""
        return 400 <= self.status < 500 and not self.rate_limited
