"""Which access key GitHub holds, recorded where every later run can read it.

GitHub never returns a secret's value, so the tool records, in the IAM user's own tags
(one TagUser call writes the whole record at once):

- `ghbootstrap:key-held`: the key whose id and secret GitHub holds;
- `ghbootstrap:key-retired`: the key the last rotation retired (inactive, or still active
  under --keep-old-active); the next rotation deletes it;
- `ghbootstrap:key-id-written` and `ghbootstrap:key-secret-written`: the `updated_at`
  GitHub reported for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY right after
  ghbootstrap wrote them. A secret whose `updated_at` differs was written by someone else
  since: ghbootstrap does not overwrite it without --force, and never deletes it;
- `ghbootstrap:key-pending`, `ghbootstrap:key-pending-stage` and
  `ghbootstrap:key-pending-mark`: a key being installed, how far the install got
  (`created`, or `id-stored` once GitHub took its id), and the `updated_at`
  AWS_SECRET_ACCESS_KEY had before. key_install.repair reads them after a run stopped half-way;
- `ghbootstrap:secrets-scope` (continued in `ghbootstrap:key-scope-2`, `-3`, ... when
  long): where the secrets live, `repository` or `environment:NAME`, NAME escaped as
  every record is escaped (tagcodec.py: `@XX` per byte outside `A-Za-z0-9_.:/=-`), so every
  environment name GitHub allows round-trips within IAM's tag value rules. (The parts are
  not named `KEY:2` like footprint's: the self-rotation policy lets CI tag `key-*` only.)

The user's tags are readable by the user itself, so `rotate` works the same from a laptop
or from CI with the key it is replacing.

0.1.0 kept the key record without the two `...-written` tags (every later release writes
them, empty or not): such a record reads with `v0_1_0` set, and key_install.adopt_v0_1_0
decides from timestamps whether the secrets are the key 0.1.0 stored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ghbootstrap.tagcodec import escape, unescape

TAG_HELD = "ghbootstrap:key-held"
TAG_RETIRED = "ghbootstrap:key-retired"
TAG_PENDING = "ghbootstrap:key-pending"
TAG_STAGE = "ghbootstrap:key-pending-stage"
TAG_MARK = "ghbootstrap:key-pending-mark"
TAG_ID_WRITTEN = "ghbootstrap:key-id-written"
TAG_SECRET_WRITTEN = "ghbootstrap:key-secret-written"  # noqa: S105 - a tag name
TAG_SCOPE = "ghbootstrap:secrets-scope"
TAG_SCOPE_MORE = "ghbootstrap:key-scope-{}"  # the scope's 2nd, 3rd, ... part
NO_SECRET = "none"  # noqa: S105 - the mark when no secret exists yet
STAGE_CREATED = "created"  # the pending key exists; GitHub may or may not name it yet
STAGE_ID_STORED = "id-stored"  # GitHub's AWS_ACCESS_KEY_ID names the pending key

REPOSITORY = "repository"
_ENVIRONMENT = "environment:"
_TAG_VALUE_MAX = 256
_TAG_VALUE = re.compile(r"[\w .:/=+\-@]{0,200}")


def record_scope(environment: str | None) -> str:
    """The recorded scope: `repository`, or `environment:` and the escaped name."""
    if environment is None:
        return REPOSITORY
    return _ENVIRONMENT + escape(environment)


def environment_of(scope: str) -> str | None:
    """The environment a recorded scope names; None for the repository. Raises LookupError
    for a scope an earlier version recorded only as a hash of the name."""
    if scope in ("", REPOSITORY):
        return None
    if scope.startswith(_ENVIRONMENT):
        return _name(scope.removeprefix(_ENVIRONMENT))
    raise LookupError(scope)


def _name(text: str) -> str:
    """The name `record_scope` escaped to this text; else the name itself, as versions
    before the escaped form recorded it (`ops@DE`, `a b@41`: no name escapes to them).
    An old name that is itself an escaping (`prod@2024`) reads as `prod 24`: only a
    given --environment, compared by `scope_tag`, tells those apart."""
    try:
        name = unescape(text)
    except UnicodeDecodeError:
        return text
    return name if escape(name) == text else text


def scope_tag(environment: str | None) -> str:
    """What versions before the escaped form recorded: the name if it fits a tag value as
    it is, else a hash. Still read, to match an old record against --environment (and
    oidc's role tag uses it to tell which names fit)."""
    if environment is None:
        return REPOSITORY
    if _TAG_VALUE.fullmatch(environment):
        return _ENVIRONMENT + environment
    return "environment-sha256:" + hashlib.sha256(environment.encode()).hexdigest()[:16]


def _split_scope(scope: str) -> dict[str, str]:
    parts = [scope[i : i + _TAG_VALUE_MAX] for i in range(0, len(scope), _TAG_VALUE_MAX)]
    tags = {TAG_SCOPE: parts[0] if parts else ""}
    tags.update({TAG_SCOPE_MORE.format(n): part for n, part in enumerate(parts[1:], start=2)})
    return tags


def _join_scope(tags: Mapping[str, str]) -> str:
    scope, n = tags.get(TAG_SCOPE, ""), 2
    while tags.get(TAG_SCOPE_MORE.format(n)):
        scope += tags[TAG_SCOPE_MORE.format(n)]
        n += 1
    return scope


@dataclass(frozen=True)
class KeyRecord:
    held: str = ""
    retired: str = ""
    pending: str = ""
    stage: str = ""
    mark: str = ""
    scope: str = ""
    id_written: str = ""
    secret_written: str = ""
    v0_1_0: bool = False  # written by 0.1.0: it recorded no `updated_at` (never a tag)

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> KeyRecord:
        return cls(
            held=tags.get(TAG_HELD, ""),
            retired=tags.get(TAG_RETIRED, ""),
            pending=tags.get(TAG_PENDING, ""),
            stage=tags.get(TAG_STAGE, ""),
            mark=tags.get(TAG_MARK, ""),
            scope=_join_scope(tags),
            id_written=tags.get(TAG_ID_WRITTEN, ""),
            secret_written=tags.get(TAG_SECRET_WRITTEN, ""),
            v0_1_0=TAG_HELD in tags and TAG_ID_WRITTEN not in tags,
        )

    def to_tags(self) -> dict[str, str]:
        return {
            TAG_HELD: self.held,
            TAG_RETIRED: self.retired,
            TAG_PENDING: self.pending,
            TAG_STAGE: self.stage,
            TAG_MARK: self.mark,
            TAG_ID_WRITTEN: self.id_written,
            TAG_SECRET_WRITTEN: self.secret_written,
            **_split_scope(self.scope),
        }
