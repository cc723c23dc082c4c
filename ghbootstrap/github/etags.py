"""GitHub's answers kept with their ETags between runs, so a re-scan asks conditionally.

A GET sent with `If-None-Match: ETAG` is answered 304, with no body, when nothing changed,
and a 304 does not count against the rate limit. The body is then the one kept here.
`scan` keeps one file per API host and owner under the user's cache folder
(`$XDG_CACHE_HOME/ghbootstrap`, else `~/.cache/ghbootstrap`), readable by the user only.
It holds what the lists returned (repository, secret, environment and workflow names,
workflow files): never a secret's value, which GitHub never returns, nor a file's
`download_url`, which GitHub signs with a token of its own for a private repository
(`https://raw.githubusercontent.com/...?token=...`, read access to the file).
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

Entry = tuple[str, Any]  # (ETag, body)


def cache_file(api_url: str, owner: str, env: dict[str, str] | None = None) -> Path:
    environ = os.environ if env is None else env
    root = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ghbootstrap"
    host = urlparse(api_url).netloc or "github"
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{host}-{owner.lower()}")
    return root / f"scan-{safe}.json"


def _as_saved(entry: Any) -> bool:
    """An entry as `save` writes it: [ETag, body], the body an object or an array as
    GitHub's JSON answers are. Any other (another tool's file, a hand edit) is dropped and
    asked again: a 304 would have made it the answer."""
    return (
        isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and bool(entry[0])
        and isinstance(entry[1], dict | list)
    )


def _unsigned(body: Any) -> Any:
    """The body without any `download_url` (nothing reads it; a private repository's is
    signed with a token)."""
    if isinstance(body, dict):
        return {k: _unsigned(v) for k, v in body.items() if k != "download_url"}
    if isinstance(body, list):
        return [_unsigned(v) for v in body]
    return body


class ETags:
    """Shared by the workers of one run: every method takes the lock."""

    def __init__(self, path: Path | None = None, entries: dict[str, Entry] | None = None) -> None:
        self.path = path
        self._entries = dict(entries or {})
        self._lock = threading.Lock()
        self._changed = False
        self.sent = 0  # conditional requests sent
        self.unchanged = 0  # of which GitHub answered 304

    @classmethod
    def load(cls, path: Path) -> ETags:
        """The kept answers; none when the file is missing or unreadable (a cache only)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            raw = None
        if not isinstance(raw, dict):
            return cls(path)
        saved = {k: (v[0], v[1]) for k, v in raw.items() if _as_saved(v)}
        kept = {k: (etag, _unsigned(body)) for k, (etag, body) in saved.items()}
        etags = cls(path, kept)
        etags._changed = kept != saved  # an earlier release's file held signed URLs
        return etags

    def lookup(self, key: str) -> Entry | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self.sent += 1
            return found

    def reused(self) -> None:
        with self._lock:
            self.unchanged += 1

    def store(self, key: str, etag: str, body: Any) -> None:
        body = _unsigned(body)
        with self._lock:
            if self._entries.get(key) != (etag, body):
                self._entries[key] = (etag, body)
                self._changed = True

    def save(self) -> None:
        """Write the file (0600, in a 0700 folder) if anything changed; a failure to write
        costs only the next run's savings."""
        with self._lock:
            if self.path is None or not self._changed:
                return
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                partial = self.path.with_suffix(".partial")
                descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                    json.dump({k: list(v) for k, v in self._entries.items()}, out)
                partial.replace(self.path)
            except OSError:
                return
            self._changed = False
