"""One exception hierarchy. The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations

import re

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DRIFT = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
SHOWN_MAX = 80


def shown(value: str, limit: int = SHOWN_MAX) -> str:
    """A value as an error message shows it: on one line, printable ASCII as it is and
    every other character escaped as Python writes it (a newline as \\n, a backslash as
    \\\\), cut to `limit` characters with '...' when longer."""
    pieces = [
        ch if " " <= ch <= "~" and ch != "\\" else ch.encode("unicode_escape").decode("ascii")
        for ch in value
    ]
    if sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    kept, room = [], limit - 3
    for piece in pieces:
        if len(piece) > room:
            break
        kept.append(piece)
        room -= len(piece)
    return "".join(kept) + "..."


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ON_ONE_LINE = "give the value on one line, without tabs or other control characters"


def holds_control(value: str) -> bool:
    """A line break or other control character: no name, path, pattern or schedule this
    tool takes holds one, whether typed as an option or written in a file."""
    return _CONTROL.search(value) is not None


def one_line(message: str) -> str:
    """A message on one line whatever it holds: line breaks and other control characters
    escaped (values are shown with `shown` where they are put in; this is the last guard)."""
    return "".join(ch if ch.isprintable() else shown(ch) for ch in message)


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


class VariableTaken(ConflictError):
    """A GitHub variable holds a value ghbootstrap did not write: the setup command
    repairs it only with --force (status prints it so; a fleet's repairs must too)."""


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
