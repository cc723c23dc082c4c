"""`ghbootstrap status`: what is there for one repository, read-only, and what drifted.

Found by the naming options and the tags the setup commands left (ghbootstrap.footprint):
the role's trust fingerprint, its record of the setup and of every environment given
variables, the user's key record. Every check that is not `ok` carries the complete
command that repairs it (ghbootstrap.repairs); any such check makes the exit code 3.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from ghbootstrap import footprint
from ghbootstrap.aws import access_keys, ecr, oidc_provider, policy, role, user
from ghbootstrap.aws.identity import Caller, whoami
from ghbootstrap.aws.session import Aws
from ghbootstrap.defaults import GITHUB_ISSUER, WORKFLOW_PATH
from ghbootstrap.documents import (
    STS_AUDIENCE,
    ecr_repository_arn,
    fingerprint,
    issuer_host,
    oidc_provider_arn,
    push_policy,
    same_document,
)
from ghbootstrap.errors import ConflictError, UsageError
from ghbootstrap.flows import key_install
from ghbootstrap.footprint import (
    SECRET_ID,
    SECRET_KEY,
    TAG_TRUST,
    VAR_ECR_REPOSITORY,
    VAR_REGION,
    VAR_ROLE_ARN,
    KeysGiven,
    OidcGiven,
)
from ghbootstrap.github.api import GitHub, Holder
from ghbootstrap.hosts import issuer_for, web_host
from ghbootstrap.identity import (
    ANOTHER_REPOSITORY,
    JOB_WORKFLOW_REF,
    REPOSITORY_ID,
    repository_claims,
)
from ghbootstrap.keyrecord import KeyRecord
from ghbootstrap.repairs import NO_WORKFLOW, keys_command, oidc_command, open_pr, rotate_command
from ghbootstrap.report import Check, Report, State
from ghbootstrap.subjects import (
    Form,
    GitHubRepo,
    Scopes,
    build_subjects,
    form_of,
    read_subjects,
    subject_prefix,
)
from ghbootstrap.target import Names, RepoRef
from ghbootstrap.trust_ownership import CHANGED_BY_HAND, Where, hand_edits
from ghbootstrap.trusteval import (
    LOW,
    admitted_subjects,
    audit_trust,
    claim_values,
    github_hosts,
    github_providers,
    github_subjects,
    may_assume,
)
from ghbootstrap.workflow import Origin, origin_of, scopes_in, triggers_of

OK, DRIFT, MISSING = State.OK, State.DRIFT, State.MISSING


@dataclass(frozen=True)
class StatusRequest:
    ref: RepoRef
    names: Names
    environments: tuple[str, ...] = ()
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # as the user gave them: the printed repairs reach the same account and GitHub
    profile: str | None = None
    github_api_url: str | None = None


@dataclass
class _Status:
    aws: Aws
    gh: GitHub
    request: StatusRequest
    caller: Caller
    repo: GitHubRepo
    checks: list[Check] = field(default_factory=list)

    names: Names = field(init=False)
    fix: str = ""  # the command that restores this setup
    fix_forced: str = ""  # ... taking over variables that hold other values
    fix_rotate: str = ""
    # the setup command (`fix`), delivering the workflow with other options, --force or not
    command: Callable[[Sequence[str], bool], str] | None = None
    mutable_tags: bool = False
    keys_names: Names | None = None  # as the user's record has them, when it has one
    record: OidcGiven | None = None  # the role's setup, as it records it
    where: Where | None = None  # the repository's subjects now (None: not expressible)
    trust_by_hand: list[str] = field(default_factory=list)  # what a hand changed in it
    forced: dict[str, str] = field(default_factory=dict)  # fix -> the same with --force
    based_on: dict[str, str] = field(default_factory=dict)  # a fix made from another -> it
    stranger: str = ""  # the role is pinned to another repository id: why (no repair)
    workflow: str = WORKFLOW_PATH  # the build workflow's path, as the setup records it

    def __post_init__(self) -> None:
        self.names = self.request.names

    def add(self, resource: str, name: str, state: State, detail: str = "", fix: str = "") -> None:
        self.checks.append(Check(resource, name, state, detail, fix if state is not OK else ""))

    @property
    def tag_value(self) -> str:
        return self.request.ref.tag_value


def _find_ecr(s: _Status) -> ecr.Repository | None:
    found = ecr.get_repository(s.aws.ecr, s.names.ecr_repository)
    if found is not None:
        s.mutable_tags = not found.immutable  # a repair keeps the setting as it is
    return found


def _check_ecr(s: _Status, found: ecr.Repository | None) -> str:
    name, fix = s.names.ecr_repository, s.fix
    arn = ecr_repository_arn(s.caller.partition, s.aws.region, s.caller.account, name)
    if found is None:
        s.add("ECR repository", name, MISSING, "does not exist", fix)
        return arn
    settings = f"{'immutable' if found.immutable else 'mutable'} tags"
    settings += ", scan on push" if found.scan_on_push else ", no scan on push"
    users = footprint.ecr_users(found.tags)
    if not footprint.owned_by(found.tags, s.tag_value):
        made = (
            f"shared on purpose with {users[0]}"
            if s.tag_value in users
            else "not made by ghbootstrap"
        )
        s.add("ECR repository", name, OK, f"{settings}; {made}")
    elif ecr.get_lifecycle_policy(s.aws.ecr, name) is None:
        s.add("ECR repository", name, DRIFT, "its lifecycle policy was removed", fix)
    else:
        s.add("ECR repository", name, OK, f"{settings}, untagged images expire")
    return found.arn


def _check_policy(s: _Status, repository_arn: str) -> str:
    name, fix = s.names.policy, s.fix
    arn = s.caller.iam_arn("policy", name)
    found = policy.get_policy(s.aws.iam, arn)
    if found is None:
        s.add("IAM policy", name, MISSING, "does not exist", fix)
    elif not footprint.owned_by(found.tags, s.tag_value):
        s.add("IAM policy", name, DRIFT, "exists but was not made by ghbootstrap", fix)
    elif not same_document(found.document, push_policy(repository_arn)):
        s.add("IAM policy", name, DRIFT, "no longer exactly least privilege", fix)
    else:
        s.add("IAM policy", name, OK, f"least privilege on {repository_arn}")
    return arn


def _check_role(s: _Status, found: role.Role, policy_arn: str) -> None:
    """Trust, provider and attachment."""
    fix = s.fix
    findings = audit_trust(found.trust)
    problems = [f.problem for f in findings if f.severity != LOW]
    unpinned = [f.problem for f in findings if f.severity == LOW]
    refused = _refused_subjects(s, found)
    subjects = ", ".join(_subjects(found.trust)) or "nothing"
    if s.stranger:
        s.add("IAM role", found.name, DRIFT, s.stranger)
    elif s.trust_by_hand:
        unsafe = f"; it is unsafe: {problems[0]}" if problems else ""
        s.add(
            "IAM role",
            found.name,
            DRIFT,
            f"its trust policy was {CHANGED_BY_HAND}: {'; '.join(s.trust_by_hand)}{unsafe}; "
            "ghbootstrap keeps it (`oidc` replaces it only with --force)",
        )
    elif other_issuer := _other_issuer(s, found):
        s.add("IAM role", found.name, DRIFT, *other_issuer)
    elif problems:
        s.add("IAM role", found.name, DRIFT, f"its trust is unsafe: {problems[0]}", fix)
    elif refused and s.record is not None and s.record.scopes.is_empty():
        detail = (
            f"the default branch is {s.repo.default_branch} now, and the trust admits "
            f"{subjects}: a setup made without a scope follows the default branch"
        )
        s.add("IAM role", found.name, DRIFT, detail, fix)
    elif refused:
        detail = f"its trust does not admit {', '.join(refused)}, the subjects GitHub sends "
        detail += "for its setup now" + _switched(s)
        s.add("IAM role", found.name, DRIFT, detail, fix)
    elif unpinned:
        s.add("IAM role", found.name, DRIFT, f"its trust is not pinned: {unpinned[0]}", fix)
    else:
        s.add("IAM role", found.name, OK, f"admits {subjects}{_identity(s, found)}")
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


def _other_issuer(s: _Status, found: role.Role) -> tuple[str, str] | None:
    """A role trusting github.com's issuer for a repository of another GitHub host (what
    earlier releases made on a server without --issuer-url): that host's jobs present
    their own issuer's tokens, so none can assume it. Its repair is the setup on the
    host's issuer. Any other issuer may be a deliberate `--issuer-url` (a proxy's host
    name): not judged here."""
    host_issuer = issuer_for(s.gh.api_url)
    trusted = [f"https://{host}" for host in github_hosts(found.trust)]
    if host_issuer == GITHUB_ISSUER or not trusted or host_issuer in trusted:
        return None
    if not all(t == GITHUB_ISSUER or t.startswith(GITHUB_ISSUER + "/") for t in trusted):
        return None
    detail = (
        f"it trusts tokens of {', '.join(trusted)}, and the jobs of {s.repo.full_name} on "
        f"{web_host(s.gh.api_url)} present tokens of {host_issuer}: none can assume it"
    )
    fix = ""
    if s.record is not None:
        fix = oidc_command(
            s.request.ref,
            replace(s.record, issuer=host_issuer),
            profile=s.request.profile,
            github_api_url=s.request.github_api_url,
        )
    return detail, fix


def _another_repository(s: _Status, found: role.Role) -> str:
    """A trust pinned to another repository id was made for another repository of this
    name (deleted and re-created, transferred): no command of its setup may re-admit it."""
    pinned = [
        v
        for host in github_hosts(found.trust)
        for v in claim_values(found.trust, host, REPOSITORY_ID)
    ]
    if not pinned or str(s.repo.repo_id) in pinned:
        return ""
    return (
        f"its trust is pinned to repository id {', '.join(pinned)}, and {s.repo.full_name} is "
        f"repository id {s.repo.repo_id} now: {ANOTHER_REPOSITORY}; check who owns "
        f"{s.repo.full_name} now, and only if the role is meant for it, run its setup again "
        "with --force"
    )


def _refused_subjects(s: _Status, found: role.Role) -> list[str]:
    """The subjects the role's recorded setup gives it now that its trust refuses, judged
    with the claims GitHub's token carries (the repository's id, and an admitted job
    workflow): the default branch renamed under a setup that follows it, or the
    repository switched to a subject form the trust does not admit. CI breaks; `oidc` as
    recorded repairs it."""
    if s.where is None or s.record is None:
        return []
    record = s.record
    host = issuer_host(record.issuer)
    arn = oidc_provider_arn(s.caller.partition, s.caller.account, record.issuer)
    claims = {"aud": STS_AUDIENCE, **repository_claims(s.repo)}
    if record.job_workflows:
        claims[JOB_WORKFLOW_REF] = record.job_workflows[0]
    subjects = build_subjects(s.where.prefix, record.scopes, s.repo.default_branch)
    return [
        sub
        for sub in subjects.all
        if not may_assume(found.trust, arn, host, {**claims, "sub": sub})
    ]


def _switched(s: _Status) -> str:
    if s.where is None or form_of(s.where.prefix) is not Form.IMMUTABLE:
        return ""
    return ": the repository has switched to immutable subjects"


def _identity(s: _Status, found: role.Role) -> str:
    """What the OK line says beside the subjects: the pin, the job workflows, and a
    switch the next `oidc` run completes."""
    hosts = github_hosts(found.trust)
    pinned = [v for host in hosts for v in claim_values(found.trust, host, REPOSITORY_ID)]
    parts = [f"; pinned to repository id {v}" for v in pinned]
    workflows = [v for host in hosts for v in claim_values(found.trust, host, JOB_WORKFLOW_REF)]
    if workflows:
        parts.append(f"; only jobs running {', '.join(workflows)}")
    name_form = f"repo:{s.repo.full_name}:"
    if _switched(s) and any(sub.startswith(name_form) for sub in _subjects(found.trust)):
        parts.append(
            "; the repository sends immutable subjects now: the next `oidc` run drops the name form"
        )
    return "".join(parts)


def _judge_trust(s: _Status, found: role.Role) -> None:
    """Whether ghbootstrap wrote the role's trust (else what a hand changed), and the
    repository's subjects as GitHub makes them now."""
    try:
        prefix = subject_prefix(s.repo, s.gh.subject_template(s.repo))
    except ConflictError:  # a template that does not pin the repository: oidc says so
        prefix = None
    if prefix is not None:
        s.where = Where(s.repo, prefix, s.caller.partition, s.caller.account)
        s.trust_by_hand = hand_edits(found.trust, found.tags, found.name, s.where)
    elif found.tags.get(TAG_TRUST) != fingerprint(found.trust):
        s.trust_by_hand = ["it is not the trust ghbootstrap wrote last"]


def _subjects(trust: dict[str, object]) -> list[str]:
    return [sub for host in github_hosts(trust) for sub in admitted_subjects(trust, host)]


def _check_user(s: _Status, found: user.User, policy_arn: str) -> None:
    """The policy attachment, the keys and the record."""
    iam, fix_rotate = s.aws.iam, s.fix_rotate
    attached = policy_arn in user.attached_policies(iam, found.name)
    s.add(
        "policy attachment",
        f"user {found.name}",
        OK if attached else MISSING,
        "push policy attached" if attached else "the push policy is not attached",
        s.fix,
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


def _secrets_environment(s: _Status, record: KeyRecord) -> str | None:
    environment = footprint.secrets_environment(record, s.request.environments)
    if environment is footprint.UNKNOWN:
        raise UsageError(
            "the secrets live in an environment whose name only its hash records",
            "pass that --environment",
        )
    return environment


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


def _check_variables(s: _Status, scope: Holder, wanted: dict[str, str]) -> None:
    for name, value in wanted.items():
        found = s.gh.variable(scope, name)
        label = f"{name} ({scope.label})"
        if found is None:
            s.add("GitHub variable", label, MISSING, "not set", s.fix)
        elif found != value:
            s.add("GitHub variable", label, DRIFT, f"is {found!r}, not {value!r}", s.fix_forced)
        else:
            s.add("GitHub variable", label, OK, value)


def _check_earlier_variables(s: _Status, scope: Holder, wanted: dict[str, str]) -> None:
    """An environment the role no longer admits: its variables are only reported (the
    repair would not write them again); `destroy` removes those that hold our values."""
    for name, value in wanted.items():
        found = s.gh.variable(scope, name)
        if found is not None:
            detail = "left from an earlier setup" + ("" if found == value else ", changed since")
            s.add("GitHub variable", f"{name} ({scope.label})", OK, detail)


def _check_secrets(s: _Status, scope: Holder, found_user: user.User) -> None:
    state = key_install.state_of(s.aws.iam, s.gh, scope, found_user)
    for name, found in ((SECRET_ID, state.id_secret), (SECRET_KEY, state.key_secret)):
        label = f"{name} ({scope.label})"
        if found is None:
            s.add("GitHub secret", label, MISSING, "not set", s.fix_rotate)
        elif name in state.foreign_secrets:
            detail = f"updated {found.updated_at}; not written last by ghbootstrap"
            s.add("GitHub secret", label, OK, detail)
        elif state.adopted:
            detail = f"updated {found.updated_at}; written by ghbootstrap 0.1.0 (`keys` records it)"
            s.add("GitHub secret", label, OK, detail)
        else:
            s.add("GitHub secret", label, OK, f"updated {found.updated_at}")


def _check_workflow(s: _Status, fix: str) -> None:
    """The build workflow on the default branch, at the path the setup records (else the
    default path). Missing or changed by hand is reported (a setup made with
    --no-workflow has none; hand edits are the owner's business); only an older rendering
    of ours is drift, fixed by a pull request that upgrades that file."""
    branch, path = s.repo.default_branch, s.workflow
    label = f"{path} ({branch})"
    found = s.gh.file(s.repo, path, branch)
    if found is None:
        s.add("workflow", label, OK, "not on the default branch (none with --no-workflow)")
        return
    seen = origin_of(found.text, s.repo.full_name, branch)
    other = _other_triggers(s, found.text) if seen is not Origin.CHANGED else None
    if other is None and seen is not Origin.EARLIER:
        s.add("workflow", label, OK, seen.value)
        return
    # the setup command, delivering the workflow as a pull request: it runs from any
    # folder, and upgrades the file where status read it
    repair = s.command(open_pr(path), False) if fix and s.command else ""
    if repair and s.command:  # it stops where the setup command does: --force with it
        s.forced[repair] = s.command(open_pr(path), True)
        s.based_on[repair] = fix
    s.add("workflow", label, DRIFT, f"{other or seen.value}: upgrade it", repair)


def _other_triggers(s: _Status, text: str) -> str | None:
    """Our workflow, rendered for other scopes than the role records (a scope changed with
    --no-workflow, or the default branch renamed under a setup that follows it): its
    triggers and environment no longer match what the role admits. Says how."""
    if s.record is None:
        return None
    own = scopes_in(text)
    try:
        rendered = triggers_of(s.record.scopes, s.repo.default_branch)
    except UsageError:  # a '?' pattern: the setup has no workflow (--no-workflow)
        return None
    if own is None or triggers_of(own, s.repo.default_branch) == rendered:
        return None
    return (
        f"it runs for {_scopes_text(own, s.repo.default_branch)}, and the role admits "
        f"{_scopes_text(s.record.scopes, s.repo.default_branch)}"
    )


def _scopes_text(scopes: Scopes, default_branch: str) -> str:
    """`branch main, tag v*, environment prod, pull requests`, as people read it."""
    branches = scopes.branches or (() if scopes.tags else (default_branch,))
    parts = [f"branch {b}" for b in branches] + [f"tag {t}" for t in scopes.tags]
    parts += [f"environment {e}" for e in scopes.environments[:1]]
    return ", ".join(parts + (["pull requests"] if scopes.pull_requests else []))


def run(aws: Aws, gh: GitHub, request: StatusRequest) -> Report:
    s = _Status(aws, gh, request, whoami(aws.sts), gh.repository(request.ref))
    names = request.names
    found_role = role.get_role(aws.iam, names.role)
    found_user = user.get_user(aws.iam, names.user)
    found_role = (
        found_role if found_role and footprint.owned_by(found_role.tags, s.tag_value) else None
    )
    found_user = (
        found_user if found_user and footprint.owned_by(found_user.tags, s.tag_value) else None
    )
    record = _role_setup(s, found_role) if found_role else None
    footprint.same_region(record, aws.region)
    s.record = record
    if found_role is not None:
        s.stranger = _another_repository(s, found_role)
        _judge_trust(s, found_role)
    keys_setup = KeysGiven.from_tags(found_user.tags, found_user.name) if found_user else None
    footprint.same_region(keys_setup, aws.region)
    if keys_setup is not None:  # the user knows the names `keys` was given
        s.keys_names = replace(
            names,
            ecr_repository=keys_setup.ecr_repository,
            policy=keys_setup.policy,
            ecr_named=keys_setup.ecr_named,
        )
        s.names = s.keys_names
    if record is not None:  # the role knows the names it was set up with
        s.names = replace(names, ecr_repository=record.ecr_repository, policy=record.policy)
    # the build workflow is the role's when there is one (`oidc` and `migrate` record a
    # path that is not the default), else the one `keys` recorded
    recorded = record if found_role is not None else keys_setup
    s.workflow = (recorded.workflow if recorded else None) or WORKFLOW_PATH
    found_ecr = _find_ecr(s)
    if keys_setup is not None:  # as `keys` was given, whatever the repository says now
        s.mutable_tags = keys_setup.mutable_tags
    environment = None
    if found_user is not None:
        environment = _secrets_environment(s, KeyRecord.from_tags(found_user.tags))
        s.fix_rotate = rotate_command(
            request.ref,
            aws.region,
            names.user,
            environment,
            profile=request.profile,
            github_api_url=request.github_api_url,
        )
    _set_fixes(s, keys_path=found_user is not None and found_role is None, env=environment)
    if found_role is not None:
        _set_fixes(s, keys_path=False, env=None, record=record)

    repository_arn = _check_ecr(s, found_ecr)
    policy_arn = _check_policy(s, repository_arn)
    if not (found_role or found_user):
        detail = f"no role {names.role} or user {names.user} made by ghbootstrap"
        s.add("setup", request.ref.full_name, MISSING, detail, s.fix)
    base = {VAR_REGION: aws.region, VAR_ECR_REPOSITORY: s.names.ecr_repository}
    if found_role is not None:
        _check_role(s, found_role, policy_arn)
        wanted = {VAR_ROLE_ARN: found_role.arn, **base}
        given = record.scopes.environments if record else ()
        current = _unique([None, *given, *request.environments])
        for env in current:
            _check_variables(s, Holder(s.repo.owner, s.repo.name, env), wanted)
        for env in footprint.environments_record(found_role.tags):
            if env not in current:
                _check_earlier_variables(s, Holder(s.repo.owner, s.repo.name, env), wanted)
    if found_user is not None:
        _set_fixes(s, keys_path=True, env=environment)
        _check_user(s, found_user, policy_arn)
        scope = Holder(s.repo.owner, s.repo.name, environment)
        _check_variables(s, scope, base)
        _check_secrets(s, scope, found_user)
    if found_role is not None:  # the build workflow is the role's: upgraded by `oidc`
        _set_fixes(s, keys_path=False, env=None, record=record)
    _check_workflow(s, s.fix)
    checks = _forced_where_needed(s.checks, s.forced, s.based_on)
    forced = any(c.fix in s.forced.values() for c in checks if c.state is not State.OK)
    return Report("status", s.repo.full_name, dry_run=False, checks=checks, force_needed=forced)


def _role_setup(s: _Status, found: role.Role) -> OidcGiven:
    return role_setup(s.aws, s.request.names, found)


def role_setup(aws: Aws, names: Names, found: role.Role) -> OidcGiven:
    """What `oidc` was last given, from the role's record; a role made before the record
    existed gets its scopes read back from its trust (exactly those applied while the
    fingerprint matches; a subject no scope writes is not one)."""
    recorded = OidcGiven.from_tags(found.tags, found.name)
    if recorded is not None:
        return recorded
    hosts = github_hosts(found.trust)
    repository = ecr.get_repository(aws.ecr, names.ecr_repository)
    return OidcGiven(
        region=aws.region,
        ecr_repository=names.ecr_repository,
        policy=names.policy,
        role=found.name,
        scopes=read_subjects(github_subjects(found.trust)).scopes(),
        mutable_tags=repository is not None and not repository.immutable,
        issuer=f"https://{hosts[0]}" if hosts and hosts[0] else GITHUB_ISSUER,
        ecr_named=names.ecr_named,
    )


def setup_issuer(aws: Aws, request: StatusRequest) -> str:
    """The issuer the repository's role trusts, as its setup recorded it (GitHub's when
    there is no such role): a repair made from elsewhere (an apply file, which does not
    name it) must keep it, or it would move the trust to another issuer."""
    found = role.get_role(aws.iam, request.names.role)
    if found is None or not footprint.owned_by(found.tags, request.ref.tag_value):
        return GITHUB_ISSUER
    return role_setup(aws, request.names, found).issuer


def _set_fixes(
    s: _Status, *, keys_path: bool, env: str | None, record: OidcGiven | None = None
) -> None:
    """The repair commands for what follows: `keys` for the user's resources, `oidc` (as
    the role records it was last run) for everything else."""
    ref, region, names = s.request.ref, s.aws.region, s.names
    profile, github_api_url = s.request.profile, s.request.github_api_url
    if s.stranger or (s.trust_by_hand and not keys_path):
        # `oidc` refuses a trust pinned to another repository or changed by hand: no
        # command of it repairs anything (forced, it would admit a stranger or undo the edit)
        s.fix = s.fix_forced = ""
        s.command = None
        return
    setup = record or OidcGiven(
        region, names.ecr_repository, names.policy, names.role, mutable_tags=s.mutable_tags
    )

    def command(workflow: Sequence[str], force: bool) -> str:
        if keys_path:
            return keys_command(
                ref,
                region,
                s.keys_names or names,
                env,
                mutable_tags=s.mutable_tags,
                force=force,
                profile=profile,
                github_api_url=github_api_url,
                workflow=workflow,
            )
        return oidc_command(
            ref, setup, force=force, profile=profile, github_api_url=github_api_url,
            workflow=workflow,
        )  # fmt: skip

    s.command = command
    s.fix, s.fix_forced = command(NO_WORKFLOW, False), command(NO_WORKFLOW, True)
    s.forced[s.fix] = s.fix_forced


def _forced_where_needed(
    checks: list[Check], forced: dict[str, str], based_on: dict[str, str]
) -> list[Check]:
    """A variable that holds another value needs --force, and a command without it stops
    at that variable: then every repair by that command, or made from it (the workflow's,
    with --open-pr), carries --force."""
    needed = {fix for fix, with_force in forced.items() if any(c.fix == with_force for c in checks)}
    needed |= {fix for fix, base in based_on.items() if base in needed}
    return [replace(c, fix=forced[c.fix]) if c.fix in needed else c for c in checks]


def _unique(values: Sequence[str | None]) -> list[str | None]:
    return list(dict.fromkeys(values))
