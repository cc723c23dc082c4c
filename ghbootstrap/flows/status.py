"""`ghbootstrap status`: what is there for one repository, read-only, and what drifted.

Found by the naming options and the tags the setup commands left: the role's trust
fingerprint and environments, the user's key record. Every check that is not `ok` carries
the command that repairs it; any such check makes the exit code 3.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ghbootstrap.aws import access_keys, ecr, oidc_provider, policy, role, tags, user
from ghbootstrap.aws.identity import Caller, whoami
from ghbootstrap.aws.session import Aws
from ghbootstrap.documents import (
    STS_AUDIENCE,
    ecr_repository_arn,
    fingerprint,
    push_policy,
    same_document,
)
from ghbootstrap.errors import UsageError
from ghbootstrap.flows.common import VAR_ECR_REPOSITORY, VAR_REGION, VAR_ROLE_ARN
from ghbootstrap.flows.keyswap import SECRET_ID, SECRET_KEY
from ghbootstrap.flows.oidc import TAG_ENVIRONMENTS, TAG_TRUST
from ghbootstrap.github.api import GitHub, Scope
from ghbootstrap.keyrecord import KeyRecord, scope_tag
from ghbootstrap.plan import Check, Report, State
from ghbootstrap.subjects import GitHubRepo
from ghbootstrap.target import Names, RepoRef
from ghbootstrap.trusteval import (
    admitted_subjects,
    audit_trust,
    github_issuer,
    github_providers,
)
from ghbootstrap.workflow import DEFAULT_PATH, Origin, judge

OK, DRIFT, MISSING = State.OK, State.DRIFT, State.MISSING


@dataclass(frozen=True)
class StatusRequest:
    ref: RepoRef
    names: Names
    environments: tuple[str, ...] = ()
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass
class _Status:
    aws: Aws
    gh: GitHub
    request: StatusRequest
    caller: Caller
    repo: GitHubRepo
    checks: list[Check] = field(default_factory=list)

    def add(self, resource: str, name: str, state: State, detail: str = "", fix: str = "") -> None:
        self.checks.append(Check(resource, name, state, detail, fix if state is not OK else ""))

    def command(self, verb: str) -> str:
        return f"ghbootstrap {verb} {self.request.ref.full_name}"

    @property
    def key(self) -> str:
        return self.request.ref.key


def _check_ecr(s: _Status, fix: str) -> str:
    name = s.request.names.ecr_repository
    arn = ecr_repository_arn(s.caller.partition, s.aws.region, s.caller.account, name)
    found = ecr.get_repository(s.aws.ecr, name)
    if found is None:
        s.add("ECR repository", name, MISSING, "does not exist", fix)
        return arn
    settings = f"{'immutable' if found.immutable else 'mutable'} tags"
    settings += ", scan on push" if found.scan_on_push else ", no scan on push"
    if not tags.owned_by(found.tags, s.key):
        s.add("ECR repository", name, OK, f"{settings}; not made by ghbootstrap")
    elif ecr.get_lifecycle_policy(s.aws.ecr, name) is None:
        s.add("ECR repository", name, DRIFT, "its lifecycle policy was removed", fix)
    else:
        s.add("ECR repository", name, OK, f"{settings}, untagged images expire")
    return found.arn


def _check_policy(s: _Status, repository_arn: str, fix: str) -> str:
    name = s.request.names.policy
    arn = s.caller.iam_arn("policy", name)
    found = policy.get_policy(s.aws.iam, arn)
    if found is None:
        s.add("IAM policy", name, MISSING, "does not exist", fix)
    elif not tags.owned_by(found.tags, s.key):
        s.add("IAM policy", name, DRIFT, "exists but was not made by ghbootstrap", fix)
    elif not same_document(found.document, push_policy(repository_arn)):
        s.add("IAM policy", name, DRIFT, "no longer exactly least privilege", fix)
    else:
        s.add("IAM policy", name, OK, f"least privilege on {repository_arn}")
    return arn


def _check_role(s: _Status, found: role.Role, policy_arn: str) -> list[str]:
    """Trust, provider and attachment; returns the environments the role's tags name."""
    fix = s.command("oidc") + " (with your scopes)"
    problems = [f.problem for f in audit_trust(found.trust)]
    if found.tags.get(TAG_TRUST) != fingerprint(found.trust):
        s.add(
            "IAM role", found.name, DRIFT, "its trust policy was changed outside ghbootstrap", fix
        )
    elif problems:
        s.add("IAM role", found.name, DRIFT, f"its trust is unsafe: {problems[0]}", fix)
    else:
        subjects = ", ".join(_subjects(found.trust)) or "nothing"
        s.add("IAM role", found.name, OK, f"admits {subjects}")
    for arn in sorted(github_providers(found.trust)):
        provider = oidc_provider.get_provider(s.aws.iam, arn)
        if provider is None:
            s.add("OIDC provider", arn, MISSING, "the role trusts a provider that is gone", fix)
        elif STS_AUDIENCE not in provider.audiences:
            s.add("OIDC provider", arn, DRIFT, f"lacks the {STS_AUDIENCE} audience", fix)
        else:
            s.add("OIDC provider", arn, OK, f"audience {STS_AUDIENCE}")
    attached = policy_arn in role.attached_policies(s.aws.iam, found.name)
    s.add(
        "policy attachment",
        f"role {found.name}",
        OK if attached else MISSING,
        "push policy attached" if attached else "the push policy is not attached",
        fix,
    )
    listed = found.tags.get(TAG_ENVIRONMENTS, "")
    return [env for env in listed.split(",") if env]


def _subjects(trust: dict[str, object]) -> list[str]:
    hosts = sorted({github_issuer(arn) or "" for arn in github_providers(trust)})
    return [sub for host in hosts for sub in admitted_subjects(trust, host)]


def _check_user(s: _Status, found: user.User, policy_arn: str) -> str | None:
    """Keys and the record; returns the environment holding the secrets (None: repo)."""
    iam, fix_rotate = s.aws.iam, s.command("rotate")
    attached = policy_arn in user.attached_policies(iam, found.name)
    s.add(
        "policy attachment",
        f"user {found.name}",
        OK if attached else MISSING,
        "push policy attached" if attached else "the push policy is not attached",
        s.command("keys"),
    )
    record = KeyRecord.from_tags(found.tags)
    keys = access_keys.list_keys(iam, found.name)
    if record.pending:
        s.add("access key", record.pending, DRIFT, "a key change was interrupted", fix_rotate)
    for key in keys:
        s.add("access key", key.id, *_key_state(s, key, record))
    if not any(k.id == record.held and k.active for k in keys):
        s.add(
            "access key",
            record.held or "(none)",
            MISSING,
            "GitHub holds no working key",
            fix_rotate,
        )
    return _secrets_environment(s, record)


def _secrets_environment(s: _Status, record: KeyRecord) -> str | None:
    """Where `keys` put the secrets: the repository, or the environment the record names
    (by name, or by hash when the name does not fit a tag: then --environment says)."""
    if record.scope in ("", "repository"):
        return None
    for env in s.request.environments:
        if scope_tag(env) == record.scope:
            return env
    if record.scope.startswith("environment:"):
        return record.scope.removeprefix("environment:")
    raise UsageError(
        "the secrets live in an environment whose name only its hash records",
        "pass that --environment",
    )


def _key_state(s: _Status, key: access_keys.AccessKey, record: KeyRecord) -> tuple[State, str, str]:
    age = (s.request.now() - key.created).days
    used = access_keys.last_used(s.aws.iam, key.id)
    when = f"last used {used:%Y-%m-%d}" if used else "never used"
    role_of = {record.held: "held by GitHub", record.retired: "retired", record.pending: "pending"}
    what = role_of.get(key.id)
    detail = f"{key.status.lower()}, {age} days old, {when}, {what or 'not recorded'}"
    if what is None:
        return DRIFT, detail + ": someone else may use it", "review it, then delete it by hand"
    return OK, detail, ""


def _check_variables(s: _Status, scope: Scope, wanted: dict[str, str], fix: str) -> None:
    for name, value in wanted.items():
        found = s.gh.variable(scope, name)
        label = f"{name} ({scope.label})"
        if found is None:
            s.add("GitHub variable", label, MISSING, "not set", fix)
        elif found != value:
            s.add("GitHub variable", label, DRIFT, f"is {found!r}, not {value!r}", fix)
        else:
            s.add("GitHub variable", label, OK, value)


def _check_secrets(s: _Status, scope: Scope) -> None:
    for name in (SECRET_ID, SECRET_KEY):
        found = s.gh.secret(scope, name)
        label = f"{name} ({scope.label})"
        if found is None:
            s.add("GitHub secret", label, MISSING, "not set", s.command("rotate"))
        else:
            s.add("GitHub secret", label, OK, f"updated {found.updated_at}")


def _check_workflow(s: _Status, fix: str) -> None:
    """The build workflow on the default branch. Missing or changed by hand is reported
    (a setup made with --no-workflow has none; hand edits are the owner's business);
    only an older rendering of ours is drift, fixed by a pull request that upgrades it."""
    branch = s.repo.default_branch
    label = f"{DEFAULT_PATH} ({branch})"
    found = s.gh.file(s.repo, DEFAULT_PATH, branch)
    if found is None:
        s.add("workflow", label, OK, "not on the default branch (none with --no-workflow)")
        return
    seen = judge(found.text, s.repo.full_name, branch)
    if seen is Origin.EARLIER:
        s.add("workflow", label, DRIFT, f"{seen.value}: upgrade it", _with_open_pr(fix))
    else:
        s.add("workflow", label, OK, seen.value)


def _with_open_pr(setup_command: str) -> str:
    """The setup's repair command, delivering the workflow as a pull request: it runs from
    any folder, and upgrades the file where status read it."""
    return setup_command.replace(" --no-workflow", "") + " --open-pr"


def run(aws: Aws, gh: GitHub, request: StatusRequest) -> Report:
    s = _Status(aws, gh, request, whoami(aws.sts), gh.repository(request.ref))
    names = request.names
    found_role = role.get_role(aws.iam, names.role)
    found_user = user.get_user(aws.iam, names.user)
    oidc_path = found_role is not None and tags.owned_by(found_role.tags, s.key)
    keys_path = found_user is not None and tags.owned_by(found_user.tags, s.key)
    fix = s.command("keys" if keys_path and not oidc_path else "oidc")

    repository_arn = _check_ecr(s, fix)
    policy_arn = _check_policy(s, repository_arn, fix)
    if not (oidc_path or keys_path):
        s.add(
            "setup",
            request.ref.full_name,
            MISSING,
            f"no role {names.role} or user {names.user} made by ghbootstrap",
            fix,
        )
    base = {VAR_REGION: aws.region, VAR_ECR_REPOSITORY: names.ecr_repository}
    if oidc_path and found_role is not None:
        environments = _check_role(s, found_role, policy_arn)
        wanted = {VAR_ROLE_ARN: found_role.arn, **base}
        for env in _unique([None, *environments, *request.environments]):
            _check_variables(s, Scope(s.repo.owner, s.repo.name, env), wanted, fix)
    if keys_path and found_user is not None:
        environment = _check_user(s, found_user, policy_arn)
        scope = Scope(s.repo.owner, s.repo.name, environment)
        _check_variables(s, scope, base, s.command("keys"))
        _check_secrets(s, scope)
    _check_workflow(s, fix)
    return Report("status", s.repo.full_name, dry_run=False, checks=s.checks)


def _unique(values: Sequence[str | None]) -> list[str | None]:
    return list(dict.fromkeys(values))
