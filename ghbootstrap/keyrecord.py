"""Which access key GitHub holds, recorded where every later run can read it.

GitHub never returns a secret's value, so the tool records, in the IAM user's own tags
(one TagUser call writes the whole record at once):

- `ghbootstrap:key-held`: the key whose id and secret GitHub holds;
- `ghbootstrap:key-retired`: the key the last rotation retired (inactive, or still active
  under --keep-old-active); the next rotation deletes it;
- `ghbootstrap:key-pending` and `ghbootstrap:key-pending-mark`: a key being installed, and
  the `updated_at` GitHub showed for AWS_SECRET_ACCESS_KEY just before. If a run stops
  half-way, the next run compares that mark with GitHub's `updated_at` now: changed means
  GitHub received the new secret (finish the install); unchanged means it did not (undo);
- `ghbootstrap:secrets-scope`: where the secrets live (the repository or an environment),
  so `rotate` writes the same place `keys` did.

The user's tags are readable by the user itself, so `rotate` works the same from a laptop
or from CI with the key it is replacing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

TAG_HELD = "ghbootstrap:key-held"
TAG_RETIRED = "ghbootstrap:key-retired"
TAG_PENDING = "ghbootstrap:key-pending"
TAG_MARK = "ghbootstrap:key-pending-mark"
TAG_SCOPE = "ghbootstrap:secrets-scope"
NO_SECRET = "none"  # noqa: S105 - the mark when no secret exists yet
_TAG_VALUE = re.compile(r"[\w .:/=+\-@]{0,200}")


def scope_tag(environment: str | None) -> str:
    """`repository`, `environment:NAME`, or a hash where NAME does not fit a tag value."""
    if environment is None:
        return "repository"
    if _TAG_VALUE.fullmatch(environment):
        return f"environment:{environment}"
    return "environment-sha256:" + hashlib.sha256(environment.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class KeyRecord:
    held: str = ""
    retired: str = ""
    pending: str = ""
    mark: str = ""
    scope: str = ""

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> KeyRecord:
        return cls(
            held=tags.get(TAG_HELD, ""),
            retired=tags.get(TAG_RETIRED, ""),
            pending=tags.get(TAG_PENDING, ""),
            mark=tags.get(TAG_MARK, ""),
            scope=tags.get(TAG_SCOPE, ""),
        )

    def to_tags(self) -> dict[str, str]:
        return {
            TAG_HELD: self.held,
            TAG_RETIRED: self.retired,
            TAG_PENDING: self.pending,
            TAG_MARK: self.mark,
            TAG_SCOPE: self.scope,
        }
