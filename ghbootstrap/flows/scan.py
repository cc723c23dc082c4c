"""`ghbootstrap scan OWNER`: which repositories hold long-lived AWS keys. Reads only.

Order: the repositories (an owner's list, or those named), then once whether the
organisation holds secrets of its own that matter, then AWS (every IAM user's access keys
with their age and last use, and the records of the key setups ghbootstrap made), then
each repository's secrets, environments and workflow files on its default branch, in a
pool of workers sharing GitHub's pacing gate (github/pacing.py). The verdict of each is
inventory.judge's. A repository the token may not read is `unreadable`, not a failure;
one that could not be read for another reason fails alone, and the scan goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from ghbootstrap import footprint
from ghbootstrap.aws import access_keys, user
from ghbootstrap.aws.identity import whoami
from ghbootstrap.aws.session import Aws
from ghbootstrap.errors import GhbError, GitHubError
from ghbootstrap.github.api import GitHub, Holder
from ghbootstrap.inventory import (
    ORGANIZATION,
    REPOSITORY,
    AccessKeyFacts,
    FoundSecret,
    KeySetupFacts,
    Migration,
    RepoFacts,
    environment_scope,
    judge,
    read_workflow,
    reads_as_key,
)
from ghbootstrap.keyrecord import KeyRecord, environment_of
from ghbootstrap.repairs import migrate_command
from ghbootstrap.report import Outcome, ScanReport, ScanRow
from ghbootstrap.subjects import GitHubRepo, Scopes
from ghbootstrap.target import Names, RepoRef, parse_repo

log = logging.getLogger("ghbootstrap.scan")

T = TypeVar("T")
Started = Callable[[int], Callable[[Outcome], None]]


@dataclass(frozen=True)
class ScanRequest:
    owner: str
    repositories: tuple[RepoRef, ...] = ()  # none: every repository of the owner
    include_archived: bool = False
    jobs: int = 8
    profile: str | None = None  # for the printed commands
    github_api_url: str | None = None


# -- AWS ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwsFacts:
    account: str
    keys: list[AccessKeyFacts]
    # by lower-case OWNER/REPO, as their records name it: every setup of it, the one under
    # the repository's default user name first (a repository may hold several, one a scope)
    setups: dict[str, list[KeySetupFacts]]


def read_aws(aws: Aws, now: datetime) -> AwsFacts:
    """Every IAM user's access keys, and the key setups ghbootstrap recorded: a user
    tagged with the repository it was made for, holding a key record."""
    account = whoami(aws.sts).account
    keys: list[AccessKeyFacts] = []
    setups: dict[str, list[KeySetupFacts]] = {}
    for found in user.tagged_users(aws.iam, lambda _: True):
        record = KeyRecord.from_tags(found.tags)
        repository = found.tags.get(footprint.TAG_REPOSITORY, "")
        recorded = bool(repository) and bool(record.held or record.scope)
        facts = tuple(
            AccessKeyFacts(
                user=found.name,
                id=key.id,
                status=key.status,
                age_days=(now - key.created).days,
                last_used=access_keys.last_used(aws.iam, key.id),
                repository=repository if recorded else "",
            )
            for key in access_keys.list_keys(aws.iam, found.name)
        )
        keys += facts
        if recorded:
            given = footprint.KeysGiven.from_tags(found.tags, found.name)
            setup = KeySetupFacts(repository, found.name, record, facts, given)
            setups.setdefault(repository, []).append(setup)
    for repository, made in setups.items():
        default = _default_user(repository)
        made.sort(key=lambda s: (s.user.casefold() != default, s.user.casefold()))
    return AwsFacts(account, keys, setups)


def _default_user(repository: str) -> str:
    try:
        return Names.resolve(parse_repo(repository)).user.casefold()
    except GhbError:  # a tag no repository name could give: no default to prefer
        return ""


# -- GitHub ------------------------------------------------------------------------------------


class _Reader:
    """One repository's reads; a read the token may not make is noted, not raised."""

    def __init__(self, gh: GitHub, repo: GitHubRepo) -> None:
        self.gh, self.repo = gh, repo
        self.missing: list[str] = []

    def attempt(self, read: Callable[[], T], what: str, permission: str) -> T | None:
        try:
            return read()
        except GitHubError as exc:
            if exc.status in (403, 404) and not exc.rate_limited:
                self.missing.append(f"the token may not {what}: give it {permission}")
                return None
            raise

    def secrets(self, environment: str | None = None) -> list[FoundSecret]:
        repo = self.repo
        holder = Holder(repo.owner, repo.name, environment)
        if environment is None:
            what = f"list the secrets of {repo.full_name}"
            permission, scope = "Secrets: read", REPOSITORY
        else:
            what = f"list the secrets of environment {environment} of {repo.full_name}"
            permission, scope = "Environments: read", environment_scope(environment)
        found = self.attempt(lambda: self.gh.secrets(holder), what, permission) or []
        return [FoundSecret(s.name, scope, s.updated_at) for s in found]

    def shared(self) -> list[FoundSecret]:
        what = f"list the organization secrets of {self.repo.full_name}"
        found = self.attempt(lambda: self.gh.shared_secrets(self.repo), what, "Secrets: read")
        return [FoundSecret(s.name, ORGANIZATION, s.updated_at) for s in found or []]


def read_repository(gh: GitHub, repo: GitHubRepo, org_secrets: frozenset[str] | None) -> RepoFacts:
    """Secrets (repository, each environment, and the organisation's it may use), and the
    workflow files on the default branch. `org_secrets`: the organisation's secret names,
    or None when they could not be listed (then each repository is asked)."""
    reader = _Reader(gh, repo)
    secrets = reader.secrets()
    what = f"list the environments of {repo.full_name}"
    environments = reader.attempt(lambda: gh.environments(repo), what, "Actions: read") or []
    for environment in environments:
        secrets += reader.secrets(environment)
    what = f"list the workflows of {repo.full_name}"
    uses = []
    for path in reader.attempt(lambda: gh.workflows(repo), what, "Actions: read") or []:
        what = f"read {path} on {repo.default_branch} of {repo.full_name}"
        found = reader.attempt(
            partial(gh.file, repo, path, repo.default_branch), what, "Contents: read"
        )
        if found is not None:
            uses.append(read_workflow(path, found.text))
    read = {name for use in uses for name in use.key_secrets}
    if org_secrets is None or any(reads_as_key(n, read) for n in org_secrets):
        secrets += reader.shared()
    return RepoFacts(
        name=repo.full_name,
        secrets=tuple(secrets),
        environments=tuple(environments),
        workflows=tuple(uses),
        missing=tuple(reader.missing),
    )


def organization_secrets(gh: GitHub, owner: str, is_org: bool | None) -> frozenset[str] | None:
    """The organisation's own secret names, listed once; None when the token may not list
    them (each repository is then asked which it may use); empty for a user. `is_org`
    None: not known (repositories named one by one), and GitHub's 404 says a user."""
    if is_org is False:
        return frozenset()
    try:
        return frozenset(s.name for s in gh.organization_secrets(owner))
    except GitHubError as exc:
        if exc.rate_limited or exc.status not in (403, 404):
            raise
        return frozenset() if exc.status == 404 and is_org is None else None


def repositories(gh: GitHub, request: ScanRequest) -> tuple[bool | None, list[GitHubRepo]]:
    """Whether the owner is an organisation (None: not asked), and what to scan."""
    if request.repositories:
        return None, [gh.repository(ref) for ref in request.repositories]
    is_org, listed = gh.owner_repositories(request.owner)
    return is_org, [r.repo for r in listed if request.include_archived or not r.archived]


# -- the scan ----------------------------------------------------------------------------------


def run(
    aws: Aws,
    github: Callable[[], GitHub],
    request: ScanRequest,
    *,
    now: Callable[[], datetime] | None = None,
    started: Started = lambda _: lambda _: None,
) -> ScanReport:
    local = threading.local()

    def client() -> GitHub:
        gh: GitHub | None = getattr(local, "gh", None)
        if gh is None:
            gh = local.gh = github()
        return gh

    gh = client()
    is_org, repos = repositories(gh, request)
    org_secrets = organization_secrets(gh, request.owner, is_org)
    facts = read_aws(aws, (now or (lambda: datetime.now(UTC)))())
    on_done = started(len(repos))

    def read(index: int, repo: GitHubRepo) -> RepoFacts:
        try:
            found = read_repository(client(), repo, org_secrets)
        except GhbError as exc:
            found = RepoFacts(repo.full_name, error=str(exc))
        except Exception as exc:  # a bug: this repository fails, the others go on
            log.debug("%s failed", repo.full_name, exc_info=True)
            what = f"unexpected {type(exc).__name__}: run again with -v and report it"
            found = RepoFacts(repo.full_name, error=what)
        on_done(Outcome(index, repo.full_name, error=found.error or None))
        return found

    read_facts = _pool(read, repos, request.jobs)
    rows = [_row(found, facts, aws.region, request) for found in read_facts]
    held = {k.id for row in rows for k in row.keys}
    return ScanReport(
        owner=request.owner,
        account=facts.account,
        rows=sorted(rows, key=lambda r: r.name.lower()),
        unmatched=[k for k in facts.keys if k.id not in held],
    )


def _pool(
    read: Callable[[int, GitHubRepo], RepoFacts], repos: Sequence[GitHubRepo], jobs: int
) -> list[RepoFacts]:
    found: list[RepoFacts] = []
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="ghbootstrap-scan") as pool:
        futures = [pool.submit(read, index, repo) for index, repo in enumerate(repos, start=1)]
        try:
            found += [future.result() for future in as_completed(futures)]
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return found


def _row(found: RepoFacts, facts: AwsFacts, region: str, request: ScanRequest) -> ScanRow:
    setups = facts.setups.get(found.name.lower(), [])
    setup = setups[0] if setups else None
    migration = _migration(found, setup, region, request) if setup else None
    judged = judge(found, setup, migration, also=setups[1:])
    return ScanRow(
        name=found.name,
        verdict=judged.verdict,
        secrets=judged.secrets,
        workflows=judged.workflows,
        keys=tuple(key for made in setups for key in made.keys),
        reason=judged.reason,
        failed=bool(found.error),
        migration=migration,
        other_secrets=judged.other_secrets,
        also=tuple(made.user for made in setups[1:]),
    )


def _migration(
    found: RepoFacts, setup: KeySetupFacts, region: str, request: ScanRequest
) -> Migration | None:
    """The `migrate` command for this setup: the region and user its records name (the
    record supplies the ECR repository and policy), and the environment only when the
    record names it by a hash (one of the repository's environments must match it).
    None when none matches (the environments could not be listed, or it is gone):
    migrate would refuse to guess, so there is no command to give."""
    ref = parse_repo(found.name)
    environment = footprint.secrets_environment(setup.record, found.environments)
    if environment is footprint.UNKNOWN:
        return None
    try:
        environment_of(setup.record.scope)
        hashed = False
    except LookupError:
        hashed = True
    named = environment
    recorded = setup.given.region if setup.given and setup.given.region else ""
    command = migrate_command(
        ref,
        recorded or region,
        Names.resolve(ref, user=setup.user),
        Scopes(environments=(named,)) if hashed and named is not None else None,
        profile=request.profile,
        github_api_url=request.github_api_url,
    )
    return Migration(
        command=command,
        region=recorded or region,
        region_recorded=bool(recorded),
        user=setup.user,
        environment=named,
        environment_given=hashed and named is not None,
    )
