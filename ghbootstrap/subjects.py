"""GitHub OIDC `sub` claims: which contexts of one repository a role admits, both ways.

GitHub builds `sub` as a prefix naming the repository, then the context:
`repo:OWNER/REPO:ref:refs/heads/main`, `...:environment:prod`, `...:pull_request`,
`...:ref:refs/tags/v1`. Repositories on the immutable format use
`repo:OWNER@OWNER_ID/REPO@REPO_ID`, and a custom template changes the prefix.

`build_subjects` turns scopes into subjects; `read_subjects` turns subjects back into
scopes, per prefix, and returns what no scope writes (a wildcard environment, a context
`oidc` cannot express) instead of dropping it. The `%3A` encoding of ':' in environment
names is `encode_environment` and `decode_environment`, nowhere else.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ghbootstrap.errors import ConflictError, UsageError, shown

WILDCARDS = frozenset("*?")
# git check-ref-format, minus '*' and '?', which we accept as wildcards.
_BAD_REF = re.compile(r"(^[-/.])|([/.]$)|(\.\.)|(//)|(@\{)|(\.lock$)|(/\.)|[\x00-\x20~^:\\\[\x7f]")
_ENV_NAME_MAX = 255


@dataclass(frozen=True)
class Scopes:
    """The contexts a role admits. Empty means: the repository's default branch.
    Each kind is a set, kept sorted."""

    branches: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    pull_requests: bool = False

    @classmethod
    def parse(
        cls,
        branches: Sequence[str] = (),
        tags: Sequence[str] = (),
        environments: Sequence[str] = (),
        pull_requests: bool = False,
    ) -> Scopes:
        for kind, values in (("--branch", branches), ("--tag", tags)):
            for value in values:
                check_ref_name(kind, value)
        for env in environments:
            check_environment(env)
        return cls(
            branches=_unique(branches),
            tags=_unique(tags),
            environments=_unique(environments),
            pull_requests=pull_requests,
        )

    def is_empty(self) -> bool:
        return not (self.branches or self.tags or self.environments or self.pull_requests)


def union_of(*every: Scopes) -> Scopes:
    """Every context any of these scopes admits."""
    return Scopes(
        branches=_unique([b for s in every for b in s.branches]),
        tags=_unique([t for s in every for t in s.tags]),
        environments=_unique([e for s in every for e in s.environments]),
        pull_requests=any(s.pull_requests for s in every),
    )


_FULL_REF_KINDS = {"refs/heads/": "--branch", "refs/tags/": "--tag"}


def check_ref_name(option: str, value: str) -> str:
    """A branch or tag name as `--branch`/`--tag` take it: the short name, which the
    subject puts after refs/heads/ or refs/tags/. A full ref name is refused, not
    shortened: 'refs/heads/main' is also a legal branch name of its own."""
    if not value or _BAD_REF.search(value):
        raise UsageError(
            f"{option} '{shown(value)}' is not a valid git ref name",
            "use a name such as main or release/1.x ('*' and '?' are wildcards)",
        )
    if value.startswith("refs/"):
        prefix = next((p for p in _FULL_REF_KINDS if value.startswith(p)), "")
        short = value.removeprefix(prefix)
        fix = (
            f"give the short name: {_FULL_REF_KINDS[prefix]} {shown(short)}"
            if prefix and short
            else "give the branch or tag name without refs/"
        )
        raise UsageError(
            f"{option} '{shown(value)}' is a full ref name, and ghbootstrap adds "
            "refs/heads/ or refs/tags/ itself",
            fix,
        )
    return value


def check_environment(name: str) -> str:
    if not name.strip() or len(name) > _ENV_NAME_MAX or any(ord(ch) < 32 for ch in name):
        raise UsageError(
            f"--environment '{shown(name)}' is not a valid environment name",
            f"use 1-{_ENV_NAME_MAX} printable characters",
        )
    return name


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    """Scopes are sets: any order, and repeats, give the same scopes (and so the same
    trust, tags and workflow)."""
    return tuple(sorted(set(values)))


@dataclass(frozen=True)
class GitHubRepo:
    """What GitHub says about a repository: canonical names, ids, default branch."""

    owner: str
    name: str
    owner_id: int
    repo_id: int
    default_branch: str
    can_push: bool = True  # the caller's role allows writing secrets and variables
    is_admin: bool = True  # ... and creating environments

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class SubjectTemplate:
    """A repository's OIDC subject settings, as GitHub's customization endpoint returns them."""

    use_default: bool = True
    include_claim_keys: tuple[str, ...] = ()
    use_immutable_subject: bool = False
    sub_claim_prefix: str | None = None


def subject_prefix(repo: GitHubRepo, template: SubjectTemplate) -> str:
    """The part of `sub` before the context, refusing templates that do not pin the repo."""
    if template.sub_claim_prefix:
        prefix = template.sub_claim_prefix
    elif template.use_default or not template.include_claim_keys:
        prefix = _repo_claim(repo, template.use_immutable_subject)
    else:
        prefix = _prefix_from_keys(repo, template)
    if not pins_repository(prefix, repo):
        raise ConflictError(
            f"{repo.full_name}'s OIDC subject template makes subjects like '{prefix}:...', "
            "which do not name the repository, so a trust built on them would admit other "
            "repositories",
            "include 'repo' (or 'repository_id') in the template, or reset it: "
            f"gh api -X PUT repos/{repo.full_name}/actions/oidc/customization/sub "
            "-F use_default=true",
        )
    if WILDCARDS & set(prefix):
        raise ConflictError(f"the OIDC subject prefix '{prefix}' contains a wildcard character")
    return prefix


def _repo_claim(repo: GitHubRepo, immutable: bool) -> str:
    if immutable:
        return f"repo:{repo.owner}@{repo.owner_id}/{repo.name}@{repo.repo_id}"
    return f"repo:{repo.full_name}"


def _prefix_from_keys(repo: GitHubRepo, template: SubjectTemplate) -> str:
    """Rebuild the prefix of a custom template from the keys we can predict."""
    keys = template.include_claim_keys
    if keys[-1] != "context":
        raise ConflictError(
            f"{repo.full_name}'s OIDC subject template ({', '.join(keys)}) does not end "
            "with 'context', so branch, tag and environment scopes cannot be expressed",
            "put 'context' last in the template, or reset it to the default",
        )
    values = {
        "repo": _repo_claim(repo, template.use_immutable_subject).removeprefix("repo:"),
        "repository": repo.full_name,
        "repository_owner": repo.owner,
        "repository_id": str(repo.repo_id),
        "repository_owner_id": str(repo.owner_id),
    }
    parts = []
    for key in keys[:-1]:
        if key not in values:
            raise ConflictError(
                f"{repo.full_name}'s OIDC subject template includes '{key}', whose value "
                "ghbootstrap cannot predict",
                "limit the template to repo, repository, repository_id, repository_owner, "
                "repository_owner_id and context",
            )
        parts.append(f"{key}:{values[key]}")
    return ":".join(parts)


def pins_repository(prefix: str, repo: GitHubRepo) -> bool:
    """Does a subject prefix name exactly this repository (by name or by id)?"""
    names = [
        f"repo:{repo.full_name}",
        f"repo:{repo.owner}@{repo.owner_id}/{repo.name}@{repo.repo_id}",
        f"repository:{repo.full_name}",
        f"repository_id:{repo.repo_id}",
    ]
    return any(re.search(rf"(^|:){re.escape(name)}(:|$)", prefix) for name in names)


_COLON = "%3A"


def encode_environment(name: str) -> str:
    """GitHub writes ':' in environment names as %3A inside `sub`."""
    return name.replace(":", _COLON)


def decode_environment(text: str) -> str:
    """An environment name as it is, from its form in `sub`."""
    return text.replace(_COLON, ":")


@dataclass(frozen=True)
class Subjects:
    exact: tuple[str, ...]
    patterns: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.exact + self.patterns


def build_subjects(prefix: str, scopes: Scopes, default_branch: str) -> Subjects:
    """Every admitted `sub`, split into exact values and wildcard patterns.

    Only branch and tag names may be patterns, and they come after the pinned prefix,
    so no pattern can match another repository.
    """
    refs = [f"ref:refs/heads/{b}" for b in scopes.branches]
    refs += [f"ref:refs/tags/{t}" for t in scopes.tags]
    exact = [f"{prefix}:{ref}" for ref in refs if not WILDCARDS & set(ref)]
    patterns = [f"{prefix}:{ref}" for ref in refs if WILDCARDS & set(ref)]
    exact += [f"{prefix}:environment:{encode_environment(e)}" for e in scopes.environments]
    if scopes.pull_requests:
        exact.append(f"{prefix}:pull_request")
    if scopes.is_empty():
        exact.append(f"{prefix}:ref:refs/heads/{default_branch}")
    return Subjects(tuple(exact), tuple(patterns))


# -- and back: the scopes a trust's subjects admit ----------------------------------------

_CONTEXT = re.compile(r"^(?P<prefix>.*?):(?P<context>ref:refs/.+|environment:.+|pull_request)$")
_BRANCH, _TAG = "refs/heads/", "refs/tags/"
_NAME_SEGMENT = re.compile(
    r"(?:^|:)(?:repo:(?P<owner>[^:/@]+)(?:@\d+)?/(?P<name>[^:/@]+)(?:@\d+)?"
    r"|repository:(?P<full>[^:/@]+/[^:/@]+))(?::|$)"
)


def split_subject(sub: str) -> tuple[str, str]:
    """`repo:O/R:ref:refs/heads/main` -> (`repo:O/R`, `ref:refs/heads/main`); a subject
    with no context GitHub writes -> (sub, "")."""
    found = _CONTEXT.match(sub)
    return (found["prefix"], found["context"]) if found else (sub, "")


class Form(enum.Enum):
    """How a prefix names its repository."""

    NAME = "name"  # repo:OWNER/REPO
    IMMUTABLE = "immutable"  # repo:OWNER@OWNER_ID/REPO@REPO_ID
    CUSTOM = "custom"  # any other template


def form_of(prefix: str) -> Form:
    if re.fullmatch(r"repo:[^:/@]+/[^:/@]+", prefix):
        return Form.NAME
    if re.fullmatch(r"repo:[^:/@]+@\d+/[^:/@]+@\d+", prefix):
        return Form.IMMUTABLE
    return Form.CUSTOM


def repository_named(prefix: str) -> str | None:
    """The OWNER/REPO a prefix names (`repo:` in either form, or `repository:`), as
    written; None for a prefix that names none by name (a template of ids only)."""
    found = _NAME_SEGMENT.search(prefix)
    if found is None:
        return None
    return found["full"] or f"{found['owner']}/{found['name']}"


def context_scope(context: str, *, pattern: bool = False) -> Scopes | None:
    """The scope whose subject ends in this context, or None if no scope `oidc` accepts
    writes it. `pattern`: the context comes from a StringLike value, where '*' and '?'
    are wildcards; in an exact value they are plain characters, which a ref name never
    holds (as a scope they would become a pattern, admitting more)."""
    if context == "pull_request":
        return Scopes(pull_requests=True)
    kind, _, name = context.partition(":")
    wild = bool(WILDCARDS & set(name))
    try:
        if kind == "environment":
            name = decode_environment(name)
            # a wildcard environment: no scope writes one
            return None if pattern and wild else Scopes.parse(environments=[name])
        if kind != "ref" or (wild and not pattern):
            return None
        if name.startswith(_BRANCH):
            return Scopes.parse(branches=[name.removeprefix(_BRANCH)])
        if name.startswith(_TAG):
            return Scopes.parse(tags=[name.removeprefix(_TAG)])
    except UsageError:
        return None  # a name `oidc` refuses
    return None


@dataclass(frozen=True)
class Grant:
    """What the subjects under one prefix admit: that repository part, its scopes, and
    the subjects read into them."""

    prefix: str
    scopes: Scopes
    subjects: tuple[str, ...]

    @property
    def form(self) -> Form:
        return form_of(self.prefix)

    @property
    def repository(self) -> str | None:
        return repository_named(self.prefix)


@dataclass(frozen=True)
class Admitted:
    """A trust's subjects read back: one grant per prefix (sorted), and every subject
    no scope writes (sorted), never dropped."""

    grants: tuple[Grant, ...] = ()
    unmapped: tuple[str, ...] = ()

    def scopes(self) -> Scopes:
        """Every grant's scopes together, whatever repository part they came under."""
        return union_of(*(g.scopes for g in self.grants))

    def of_repository(self, full_name: str) -> tuple[Scopes, tuple[str, ...]]:
        """(the scopes the trust admits for OWNER/REPO, every subject that is not one of
        them: other repositories', and those no scope writes). A grant is this
        repository's if its prefix names it (by name, either form, in any case, as GitHub
        names are); a prefix naming no repository (ids only) is, when it is the only one."""
        wanted = full_name.lower()
        named = [g for g in self.grants if (g.repository or "").lower() == wanted]
        if not named and len(self.grants) == 1 and self.grants[0].repository is None:
            named = list(self.grants)
        others = [s for g in self.grants if g not in named for s in g.subjects]
        return union_of(*(g.scopes for g in named)), tuple(sorted({*others, *self.unmapped}))


def read_subjects(subjects: Subjects) -> Admitted:
    """The inverse of `build_subjects`: for each prefix, the scopes its subjects admit.
    `read_subjects(build_subjects(p, s, d))` gives `s` back under `p` (the default
    branch, for empty scopes). Exact values and patterns are read apart: in a pattern
    '*' and '?' are wildcards."""
    found: dict[str, list[tuple[str, Scopes]]] = {}
    unmapped: list[str] = []
    for sub, pattern in _tagged(subjects):
        prefix, context = split_subject(sub)
        scope = (
            None
            if not prefix or WILDCARDS & set(prefix)
            else context_scope(context, pattern=pattern)
        )
        if scope is None:
            unmapped.append(sub)
        else:
            found.setdefault(prefix, []).append((sub, scope))
    grants = (
        Grant(
            prefix,
            union_of(*(scope for _, scope in found[prefix])),
            tuple(sorted({sub for sub, _ in found[prefix]})),
        )
        for prefix in sorted(found)
    )
    return Admitted(tuple(grants), tuple(sorted(set(unmapped))))


def _tagged(subjects: Subjects) -> Iterable[tuple[str, bool]]:
    yield from ((sub, False) for sub in subjects.exact)
    yield from ((sub, True) for sub in subjects.patterns)


# -- both forms while GitHub switches ------------------------------------------------------


def trust_prefixes(repo: GitHubRepo, prefix: str, *, both_forms: bool) -> tuple[str, ...]:
    """The subject prefixes a trust admits: the repository's own now (`prefix`), and, with
    `both_forms` (a trust pinned to the repository's id, where the name form can no longer
    be taken over), the immutable form beside the name form until the repository has
    switched, so GitHub's switch never refuses a job. A custom template: its prefix alone."""
    if both_forms and form_of(prefix) is Form.NAME:
        return (prefix, _repo_claim(repo, immutable=True))
    return (prefix,)


def subjects_for(prefixes: Sequence[str], scopes: Scopes, default_branch: str) -> Subjects:
    """`build_subjects` under each prefix."""
    each = [build_subjects(prefix, scopes, default_branch) for prefix in prefixes]
    return Subjects(
        tuple(s for found in each for s in found.exact),
        tuple(s for found in each for s in found.patterns),
    )
