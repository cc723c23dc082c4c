"""Everything ghbootstrap leaves behind, and how it knows what it made: one place.

`status`, `destroy` and any later command read the setup from here, never from another
flow's constants.

- Tags. Every resource it makes carries `ghbootstrap:repository` = lower-case
  OWNER/REPO. The role also carries `ghbootstrap:trust` (fingerprint of the trust last
  applied), `ghbootstrap:scopes` (the region, names and scopes `oidc` was last given, so
  any command can rebuild that exact command, and the path in the repository of the build
  workflow it wrote when that is not the default, so `status` reads that file) and
  `ghbootstrap:environments` (every
  environment ever given variables, so `status` checks and `destroy` cleans each). The
  user `keys` makes carries `ghbootstrap:setup` (the region, ECR repository, policy, tag
  mutability `keys` was last given, and the path in the repository of the build workflow
  it wrote, so `migrate` replaces that file; not `ghbootstrap:key-...`, which CI's
  self-rotation may tag, so CI cannot rewrite it and rotation never needs to). An OIDC
  provider it made carries `ghbootstrap:created`. An ECR repository made with an explicit
  `--ecr-repo` carries `ghbootstrap:named`; `ghbootstrap:shared` lists the other
  repositories that use it on purpose.
- Records longer than one tag value are spread over `KEY`, `KEY:2`, `KEY:3`... within
  IAM's limits (50 tags, 128-character keys, 256-character values of letters, digits,
  spaces and `_ . : / = + - @`). Values are escaped so any name fits: `@XX` per byte
  (tagcodec.py).
- GitHub: the variables below, the two secrets, and the key record (IAM user tags,
  `ghbootstrap.keyrecord`) naming the key GitHub holds and the secrets' scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ghbootstrap.defaults import GITHUB_ISSUER, WORKFLOW_PATH
from ghbootstrap.errors import UsageError
from ghbootstrap.keyrecord import KeyRecord, environment_of, scope_tag
from ghbootstrap.subjects import Scopes
from ghbootstrap.tagcodec import escape, unescape

TAG_REPOSITORY = "ghbootstrap:repository"
TAG_TRUST = "ghbootstrap:trust"
TAG_SCOPES = "ghbootstrap:scopes"
TAG_ENVIRONMENTS = "ghbootstrap:environments"
TAG_KEYS_SETUP = "ghbootstrap:setup"  # never `ghbootstrap:key-*`: CI may tag only those
TAG_CREATED = "ghbootstrap:created"
TAG_NAMED = "ghbootstrap:named"
TAG_SHARED = "ghbootstrap:shared"

VAR_ROLE_ARN = "AWS_ROLE_ARN"
VAR_REGION = "AWS_REGION"
VAR_ECR_REPOSITORY = "ECR_REPOSITORY"
VARIABLES = (VAR_ROLE_ARN, VAR_REGION, VAR_ECR_REPOSITORY)

SECRET_ID = "AWS_ACCESS_KEY_ID"  # noqa: S105 - a secret's name, not its value
SECRET_KEY = "AWS_SECRET_ACCESS_KEY"  # noqa: S105 - a name

TAG_VALUE_MAX = 256
TAGS_MAX = 50
RECORD_TAGS_MAX = 20  # per record: two records and the fixed tags stay well under 50

_SEPARATOR, _EQUALS = "+", "="

Tags = dict[str, str]


def ownership(repository_key: str) -> Tags:
    return {TAG_REPOSITORY: repository_key}


def owned_by(tags: Mapping[str, str], repository_key: str) -> bool:
    return tags.get(TAG_REPOSITORY) == repository_key


def made_by_ghbootstrap(tags: Mapping[str, str]) -> bool:
    return bool(tags.get(TAG_REPOSITORY))


# -- records spread over tags --------------------------------------------------------------


def chunk_keys(key: str, count: int) -> list[str]:
    return [key if i == 0 else f"{key}:{i + 1}" for i in range(count)]


def write_record(key: str, items: Sequence[str], what: str) -> Tags:
    """`items` as escaped, `+`-joined text spread over as many tags as it needs."""
    text = _SEPARATOR.join(escape(item) for item in items)
    chunks = [text[i : i + TAG_VALUE_MAX] for i in range(0, len(text), TAG_VALUE_MAX)] or [""]
    if len(chunks) > RECORD_TAGS_MAX:
        raise UsageError(
            f"the {what} do not fit in the {RECORD_TAGS_MAX} IAM tags ghbootstrap keeps "
            f"for them ({len(text)} characters once escaped, at most "
            f"{RECORD_TAGS_MAX * TAG_VALUE_MAX})",
            "give fewer or shorter names",
        )
    return dict(zip(chunk_keys(key, len(chunks)), chunks, strict=True))


def read_record(tags: Mapping[str, str], key: str) -> list[str]:
    text, n = "", 1
    while (part := tags.get(key if n == 1 else f"{key}:{n}")) is not None:
        text, n = text + part, n + 1
    return [unescape(item) for item in text.split(_SEPARATOR) if item]


def is_record_tag(tag_key: str, key: str) -> bool:
    return tag_key == key or re.fullmatch(rf"{re.escape(key)}:[0-9]+", tag_key) is not None


def stale_tags(
    found: Mapping[str, str], wanted: Mapping[str, str], keys: Iterable[str]
) -> list[str]:
    """Tags of these records that `found` has and `wanted` no longer needs."""
    return sorted(
        k for k in found if k not in wanted and any(is_record_tag(k, key) for key in keys)
    )


# -- the role's records ----------------------------------------------------------------------


@dataclass(frozen=True)
class OidcGiven:
    """What `oidc` was last given: enough to rebuild that exact command."""

    region: str
    ecr_repository: str
    policy: str
    role: str
    scopes: Scopes = field(default_factory=Scopes)
    mutable_tags: bool = False
    issuer: str = GITHUB_ISSUER
    ecr_named: bool = False
    job_workflows: tuple[str, ...] = ()  # --job-workflow: the only workflows admitted
    # the build workflow's path in the repository, when known; recorded only when it is not
    # the default, so a setup at the default path keeps the record it always had
    workflow: str | None = None

    def items(self) -> list[str]:
        items = [
            f"region={self.region}",
            f"ecr={self.ecr_repository}",
            f"policy={self.policy}",
        ]
        items += [f"branch={b}" for b in self.scopes.branches]
        items += [f"tag={t}" for t in self.scopes.tags]
        items += [f"environment={e}" for e in self.scopes.environments]
        if self.scopes.pull_requests:
            items.append("pull-requests")
        if self.ecr_named:
            items.append("ecr-named")
        if self.mutable_tags:
            items.append("mutable-tags")
        if self.issuer != GITHUB_ISSUER:
            items.append(f"issuer={self.issuer}")
        items += [f"job-workflow={w}" for w in self.job_workflows]
        if self.workflow not in (None, WORKFLOW_PATH):
            items.append(f"workflow={self.workflow}")
        return items

    def to_tags(self) -> Tags:
        return write_record(TAG_SCOPES, self.items(), "names and scopes of this setup")

    @property
    def holder(self) -> str:
        return f"IAM role {self.role}"

    @classmethod
    def from_tags(cls, tags: Mapping[str, str], role: str) -> OidcGiven | None:
        """None when the role carries no record (made by an older ghbootstrap)."""
        values = _record_values(tags, TAG_SCOPES)
        if not values:
            return None

        def one(name: str, default: str = "") -> str:
            return values.get(name, [default])[0]

        return cls(
            region=one("region"),
            ecr_repository=one("ecr"),
            policy=one("policy"),
            role=role,
            scopes=Scopes(
                branches=tuple(values.get("branch", ())),
                tags=tuple(values.get("tag", ())),
                environments=tuple(values.get("environment", ())),
                pull_requests="pull-requests" in values,
            ),
            mutable_tags="mutable-tags" in values,
            ecr_named="ecr-named" in values,
            issuer=one("issuer", GITHUB_ISSUER),
            job_workflows=tuple(values.get("job-workflow", ())),
            workflow=one("workflow") or None,
        )


def _record_values(tags: Mapping[str, str], key: str) -> dict[str, list[str]]:
    """A record's `name=value` items (and bare flags, as `name: [""]`), by name."""
    values: dict[str, list[str]] = {}
    for item in read_record(tags, key):
        name, _, value = item.partition(_EQUALS)
        values.setdefault(name, []).append(value)
    return values


# -- the key user's record -----------------------------------------------------------------


@dataclass(frozen=True)
class KeysGiven:
    """What `keys` was last given, beside the key record (which holds the environment)."""

    region: str
    ecr_repository: str
    policy: str
    user: str
    mutable_tags: bool = False
    ecr_named: bool = False
    workflow: str | None = None  # the build workflow's path in the repository, when known

    def items(self) -> list[str]:
        items = [f"region={self.region}", f"ecr={self.ecr_repository}", f"policy={self.policy}"]
        if self.ecr_named:
            items.append("ecr-named")
        if self.mutable_tags:
            items.append("mutable-tags")
        if self.workflow is not None:
            items.append(f"workflow={self.workflow}")
        return items

    def to_tags(self) -> Tags:
        return write_record(TAG_KEYS_SETUP, self.items(), "names of this setup")

    @property
    def holder(self) -> str:
        return f"IAM user {self.user}"

    @classmethod
    def from_tags(cls, tags: Mapping[str, str], user: str) -> KeysGiven | None:
        """None when the user carries no record (made by an older ghbootstrap)."""
        values = _record_values(tags, TAG_KEYS_SETUP)
        if not values:
            return None
        return cls(
            region=values.get("region", [""])[0],
            ecr_repository=values.get("ecr", [""])[0],
            policy=values.get("policy", [""])[0],
            user=user,
            mutable_tags="mutable-tags" in values,
            ecr_named="ecr-named" in values,
            workflow=values.get("workflow", [None])[0],
        )


def kept_workflow(written: str | None, before: OidcGiven | KeysGiven | None) -> str | None:
    """The build workflow's path in the repository to record: where this run wrote it,
    when known; else (it wrote none, or cannot tell where it landed) the one recorded."""
    return written if written is not None else (before.workflow if before else None)


def user_record(tags: Mapping[str, str]) -> Tags:
    """The tags of the user's setup record, as found (compared with what `keys` wants)."""
    return {k: v for k, v in tags.items() if is_record_tag(k, TAG_KEYS_SETUP)}


USER_RECORDS = (TAG_KEYS_SETUP,)


def same_region(setup: OidcGiven | KeysGiven | None, region: str) -> None:
    """A role or user is global but its setup is regional: reading or removing it from
    another region would judge or delete the wrong things."""
    if setup is not None and setup.region and setup.region != region:
        raise UsageError(
            f"{setup.holder} was set up for region {setup.region}, not {region}",
            f"pass --region {setup.region}",
        )


def environments_record(tags: Mapping[str, str]) -> list[str]:
    """Every environment the role's variables were written to."""
    legacy = tags.get(TAG_ENVIRONMENTS, "")
    if "," in legacy or TAG_SCOPES not in tags:
        # before records were escaped (0.1.0, which wrote no scopes record): a plain
        # comma-separated list; one name has no comma, and may hold `+` or `@XX`
        return [e for e in legacy.split(",") if e]
    return read_record(tags, TAG_ENVIRONMENTS)


def role_tags(
    repository_key: str, trust_fingerprint: str, setup: OidcGiven, environments: Sequence[str]
) -> Tags:
    tags = {
        **ownership(repository_key),
        TAG_TRUST: trust_fingerprint,
        **setup.to_tags(),
        **write_record(TAG_ENVIRONMENTS, environments, "environments holding variables"),
    }
    if len(tags) > TAGS_MAX:  # pragma: no cover - RECORD_TAGS_MAX keeps this impossible
        raise UsageError("the role's records need more than IAM's 50 tags")
    return tags


ROLE_RECORDS = (TAG_SCOPES, TAG_ENVIRONMENTS)


def ours(tags: Mapping[str, str]) -> Tags:
    """The tags ghbootstrap wrote (every key it writes starts with `ghbootstrap:`)."""
    return {k: v for k, v in tags.items() if k.startswith("ghbootstrap:")}


# -- where the key record says the secrets are --------------------------------------------

UNKNOWN = "\0unknown"  # an environment only a hash records, and no candidate matches


def secrets_environment(record: KeyRecord, candidates: Iterable[str]) -> str | None:
    """The environment holding the secrets (None: the repository itself). The record
    names it, or only its hash when the name does not fit a tag: then one of `candidates`
    (environments the caller knows of) must match, else UNKNOWN."""
    for environment in candidates:
        if scope_tag(environment) == record.scope:
            return environment
    try:
        return environment_of(record.scope)
    except LookupError:
        return UNKNOWN


# -- ECR repositories shared on purpose -----------------------------------------------------


def ecr_users(tags: Mapping[str, str]) -> list[str]:
    """Every OWNER/REPO whose setup uses this repository: its maker first."""
    maker = tags.get(TAG_REPOSITORY, "")
    return [maker, *read_record(tags, TAG_SHARED)] if maker else []


def ecr_tags(users: Sequence[str], named: bool) -> Tags:
    tags = {**ownership(users[0]), **write_record(TAG_SHARED, users[1:], "sharing repositories")}
    if not users[1:]:
        tags.pop(TAG_SHARED)
    if named:
        tags[TAG_NAMED] = "yes"
    return tags
