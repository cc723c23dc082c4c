"""The `apply` file: many repositories in one TOML document, validated whole before any call.

    [defaults]                 # any per-repository key
    region = "eu-west-1"

    [[repository]]
    name = "acme/api"
    environments = ["prod"]

`method` is "oidc" (the default), "keys", or "migrate" (an access-key setup ghbootstrap
made, moved to OIDC: `migrate`'s first phase, and `apply --finish` its second; the file
`scan --write` writes). Each entry is checked with the same validators as the single
commands (target.py, subjects.py, workflow.py), and turned into the request its command
would build. Any problem is a UsageError naming the entry: `repository[3] acme/x: unknown
key 'brnches'`.
Nothing here calls AWS or GitHub.
"""

from __future__ import annotations

import difflib
import shlex
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghbootstrap.defaults import GITHUB_ISSUER, WORKFLOW_PATH
from ghbootstrap.errors import ON_ONE_LINE, UsageError, holds_control, shown
from ghbootstrap.footprint import OidcGiven
from ghbootstrap.identity import check_job_workflows
from ghbootstrap.repairs import keys_command, migrate_command, migrate_finish_command, oidc_command
from ghbootstrap.subjects import Scopes, check_environment
from ghbootstrap.target import Names, RepoRef, parse_repo
from ghbootstrap.workflow import check_cron, check_file_path

OIDC, KEYS, MIGRATE = "oidc", "keys", "migrate"
METHODS = (OIDC, KEYS, MIGRATE)
PULL_REQUEST, NO_WORKFLOW = "pull-request", "none"

_STRINGS = (
    "name",
    "method",
    "region",
    "profile",
    "ecr_repo",
    "policy_name",
    "role_name",
    "user_name",
    "rotation_schedule",
    "workflow",
)
_LISTS = ("branches", "tags", "environments", "job_workflows")
_FLAGS = ("pull_requests", "mutable_tags")
KEYS_ALLOWED = _STRINGS + _LISTS + _FLAGS
_COMMON = frozenset(
    {"name", "method", "region", "profile", "ecr_repo", "policy_name", "mutable_tags", "workflow"}
)
_FOR_METHOD = {
    OIDC: _COMMON
    | {"role_name", "branches", "tags", "environments", "pull_requests", "job_workflows"},
    KEYS: _COMMON | {"user_name", "environments", "rotation_schedule"},
    # migrate keeps the ECR repository's tag mutability, and takes the rest from the
    # user's record; the scopes are the role's, as `migrate --branch ...` takes them
    MIGRATE: (_COMMON - {"mutable_tags"})
    | {"user_name", "role_name", "branches", "tags", "environments", "pull_requests"},
}


@dataclass(frozen=True)
class Entry:
    """One repository of the file: where it is, and the single command that sets it up."""

    index: int  # 1-based, as people count
    ref: RepoRef
    method: str
    profile: str | None
    region: str | None
    names: Names
    scopes: Scopes
    mutable_tags: bool
    rotation_schedule: str | None
    workflow: str  # "pull-request", "none", or a path
    job_workflows: tuple[str, ...] = ()  # oidc: the only workflows whose jobs it admits

    @property
    def label(self) -> str:
        return f"repository[{self.index}] {self.ref.full_name}"

    @property
    def environment(self) -> str | None:
        """The keys path keeps its secrets in at most one environment."""
        return self.scopes.environments[0] if self.scopes.environments else None

    @property
    def workflow_path(self) -> Path | None:
        """In the repository (pull-request), on this machine (a path), or none."""
        if self.workflow == NO_WORKFLOW:
            return None
        return Path(WORKFLOW_PATH if self.workflow == PULL_REQUEST else self.workflow)

    def delivery(self) -> dict[str, Any]:
        """How the workflow reaches its repository, as request fields, checked as the
        single command checks them: a branch and pull request (the default, `--open-pr`),
        a file on this machine (`--workflow-path`, one repository only), or none."""
        path = self.workflow_path
        if path is None:
            return {"workflow_path": None}
        if self.workflow == PULL_REQUEST:
            return {"workflow_path": path, "open_pr": True}
        return {"workflow_path": check_file_path(path, f"{self.label}: workflow")}

    def setup_command(
        self,
        region: str,
        *,
        issuer: str = GITHUB_ISSUER,
        github_api_url: str | None = None,
        force: bool = False,
    ) -> str:
        """The single command doing what this entry does (workflow choice included),
        runnable as printed: the repair of a repository that failed. `force`: a variable
        someone changed stops it otherwise."""
        if self.method == MIGRATE:
            return migrate_command(
                self.ref,
                region,
                self.names,
                self.scopes,
                force=force,
                profile=self.profile,
                github_api_url=github_api_url,
                workflow=self._workflow_options,
                issuer=issuer,
            )
        if self.method == OIDC:
            setup = OidcGiven(
                region=region,
                ecr_repository=self.names.ecr_repository,
                policy=self.names.policy,
                role=self.names.role,
                scopes=self.scopes,
                mutable_tags=self.mutable_tags,
                issuer=issuer,
                ecr_named=self.names.ecr_named,
                job_workflows=self.job_workflows,
            )
            return oidc_command(
                self.ref,
                setup,
                force=force,
                profile=self.profile,
                github_api_url=github_api_url,
                workflow=self._workflow_options,
            )
        return keys_command(
            self.ref,
            region,
            self.names,
            self.environment,
            mutable_tags=self.mutable_tags,
            profile=self.profile,
            github_api_url=github_api_url,
            rotation_schedule=self.rotation_schedule,
            workflow=self._workflow_options,
            force=force,
        )

    @property
    def _workflow_options(self) -> tuple[str, ...]:
        if self.workflow == NO_WORKFLOW:
            return ("--no-workflow",)
        if self.workflow == PULL_REQUEST:
            return ("--open-pr",)
        return ("--workflow-path", self.workflow)

    def finish_command(
        self, region: str, *, github_api_url: str | None = None, issuer: str | None = None
    ) -> str:
        """`migrate --finish` of a migrate entry: the repair when `apply --finish` failed
        (`issuer`: the one `apply --finish --issuer-url` was given)."""
        return migrate_finish_command(
            self.ref,
            region,
            self.names,
            profile=self.profile,
            github_api_url=github_api_url,
            issuer=issuer,
        )

    def destroy_command(self, region: str, *, github_api_url: str | None = None) -> str:
        """`destroy` of this entry's setup, by the names the file gives, without asking."""
        args = ["destroy", self.ref.full_name, "--region", region]
        if self.profile is not None:
            args += ["--profile", self.profile]
        defaults = Names.resolve(self.ref)
        for option, name, default in (
            ("--ecr-repo", self.names.ecr_repository, defaults.ecr_repository),
            ("--policy-name", self.names.policy, defaults.policy),
            ("--role-name", self.names.role, defaults.role),
            ("--user-name", self.names.user, defaults.user),
        ):
            if name != default:
                args += [option, name]
        if github_api_url is not None:
            args += ["--github-api-url", github_api_url]
        return shlex.join(["ghbootstrap", *args, "--yes"])


def load(path: Path) -> list[Entry]:
    """Read and check the whole file. Any problem: a UsageError naming file or entry."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (Notepad writes one) is no statement
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise UsageError(
            f"cannot read {path}: {reason}", "give the path of an apply file (TOML)"
        ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}", "fix the file and run again") from None
    except RecursionError:  # tomllib recurses once per level of nesting
        raise UsageError(
            f"{path} nests arrays or tables too deeply to read", "fix the file and run again"
        ) from None
    return parse(document, str(path))


def parse(document: Mapping[str, Any], where: str = "the file") -> list[Entry]:
    for key in document:
        if key not in ("defaults", "repository"):
            raise UsageError(
                f"{where}: unknown table '{key}'",
                "the file holds [defaults] and [[repository]] entries",
            )
    defaults = document.get("defaults", {})
    if not isinstance(defaults, dict):
        raise UsageError(f"{where}: 'defaults' must be a table", "write it as [defaults]")
    _check_keys("[defaults]", defaults)
    if "name" in defaults:
        raise UsageError(
            "[defaults]: 'name' names one repository", "set name in each [[repository]] entry"
        )
    listed = document.get("repository", [])
    if not isinstance(listed, list) or not all(isinstance(e, dict) for e in listed):
        raise UsageError(f"{where}: 'repository' must be [[repository]] tables")
    if not listed:
        raise UsageError(
            f"{where} lists no repositories",
            'add [[repository]] entries, each with name = "OWNER/REPO"',
        )
    entries = [_entry(index, defaults, given) for index, given in enumerate(listed, start=1)]
    _check_unique(entries)
    return entries


def _check_keys(label: str, table: Mapping[str, Any]) -> None:
    for key, value in table.items():
        if key not in KEYS_ALLOWED:
            close = difflib.get_close_matches(key, KEYS_ALLOWED, n=1)
            fix = (
                f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(KEYS_ALLOWED)
            )
            raise UsageError(f"{label}: unknown key '{key}'", fix)
        _check_type(label, key, value)


def _check_type(label: str, key: str, value: Any) -> None:
    if key in _STRINGS and not isinstance(value, str):
        raise UsageError(f"{label}: '{key}' must be a string", f'for example {key} = "..."')
    if key in _FLAGS and not isinstance(value, bool):
        raise UsageError(f"{label}: '{key}' must be true or false", f"for example {key} = true")
    if key in _LISTS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise UsageError(
            f"{label}: '{key}' must be a list of strings", f'for example {key} = ["..."]'
        )
    empty = value == [] or (isinstance(value, str) and not value.strip())
    if empty or (isinstance(value, list) and any(not v.strip() for v in value)):
        raise UsageError(
            f"{label}: '{key}' is empty", "give a value, or leave the key out for the default"
        )
    texts = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    bad = next((v for v in texts if holds_control(v)), None)
    if bad is not None:  # as in every option's value (cli._check_typed_text)
        raise UsageError(
            f"{label}: {key} '{shown(bad)}' holds a line break or control character", ON_ONE_LINE
        )


def _entry(index: int, defaults: Mapping[str, Any], given: Mapping[str, Any]) -> Entry:
    label = f"repository[{index}]"
    if "name" not in given:
        raise UsageError(f"{label}: no 'name'", 'add name = "OWNER/REPO"')
    _check_type(label, "name", given["name"])
    ref = _within(label, lambda: parse_repo(given["name"]))
    label = f"{label} {ref.full_name}"
    _check_keys(label, given)
    method = given.get("method", defaults.get("method", OIDC))
    if method not in _FOR_METHOD:
        raise UsageError(
            f"{label}: method '{method}' is not known", 'use "oidc", "keys" or "migrate"'
        )
    allowed = _FOR_METHOD[method]
    for key in given:
        if key not in allowed:
            raise UsageError(
                f"{label}: '{key}' does not apply to method \"{method}\"",
                f"remove it, or set the method that takes it ({_method_of(key)})",
            )
    # [defaults] hold keys for either method; each entry takes those its method has.
    values = {**{k: v for k, v in defaults.items() if k in allowed}, **given}
    return _within(label, lambda: _build(index, ref, method, values))


def _method_of(key: str) -> str:
    return " or ".join(f'"{m}"' for m in METHODS if key in _FOR_METHOD[m])


def _within(label: str, check: Callable[[], Any]) -> Any:
    """Run one of the single commands' validators; name the entry in its message."""
    try:
        return check()
    except UsageError as exc:
        raise UsageError(f"{label}: {exc.what}", exc.fix) from None


def _build(index: int, ref: RepoRef, method: str, values: Mapping[str, Any]) -> Entry:
    names = Names.resolve(
        ref,
        ecr_repository=values.get("ecr_repo"),
        policy=values.get("policy_name"),
        role=values.get("role_name"),
        user=values.get("user_name"),
    )
    environments = values.get("environments", [])
    if method == KEYS and len(environments) > 1:
        raise UsageError(
            f"method \"keys\" keeps its secrets in one environment, and 'environments' lists "
            f"{len(environments)}",
            "list at most one environment for this repository",
        )
    scopes = Scopes.parse(
        values.get("branches", []),
        values.get("tags", []),
        [check_environment(e) for e in environments],
        values.get("pull_requests", False),
    )
    schedule = values.get("rotation_schedule")
    workflow = values.get("workflow", PULL_REQUEST)
    if method == MIGRATE and workflow not in (PULL_REQUEST, NO_WORKFLOW):
        raise UsageError(
            f'method "migrate" delivers its workflow as "pull-request" or "none", '
            f"not '{workflow}'",
            "`apply --finish` reads the workflow from the default branch: use a pull request",
        )
    if workflow not in (PULL_REQUEST, NO_WORKFLOW) and Path(workflow).suffix not in (
        ".yml",
        ".yaml",
    ):
        raise UsageError(
            f'workflow \'{workflow}\' is neither "pull-request", "none" nor a .yml path',
            'use "pull-request" (the default), "none", or the path of a workflow file',
        )
    return Entry(
        index=index,
        ref=ref,
        method=method,
        profile=values.get("profile"),
        region=values.get("region"),
        names=names,
        scopes=scopes,
        mutable_tags=values.get("mutable_tags", False),
        rotation_schedule=check_cron(schedule) if schedule else None,
        workflow=workflow,
        job_workflows=check_job_workflows(values.get("job_workflows", []), "job_workflows"),
    )


def _check_unique(entries: list[Entry]) -> None:
    """A workflow path names one checkout, so one entry may have one."""
    paths = [e for e in entries if e.workflow not in (PULL_REQUEST, NO_WORKFLOW)]
    if len(paths) > 1:
        raise UsageError(
            f"{paths[1].label}: a workflow path is for one repository only "
            f"({paths[0].label} has one)",
            'the path is the checkout of one repository: use "pull-request" or "none" for others',
        )
    check_resources(entries, lambda entry: entry.region or "")


def check_resources(entries: Sequence[Entry], region_of: Callable[[Entry], str]) -> None:
    """One repository, ECR repository, policy, role or user per entry: two entries on one
    resource would undo each other, or race. `region_of` gives each entry's region as it
    resolves (the profile's when the entry names none), so an implicit region and the same
    one written out are one region. IAM names are unique without regard to case
    (`CI-Role` and `ci-role` are one role), so they are compared folded."""
    seen: dict[tuple[str, ...], Entry] = {}
    for entry in entries:
        account = entry.profile or ""
        keys: list[tuple[str, ...]] = [("repository", entry.ref.tag_value)]
        keys.append(("ECR repository", account, region_of(entry), entry.names.ecr_repository))
        keys.append(("IAM policy", account, entry.names.policy.casefold()))
        if entry.method in (OIDC, MIGRATE):
            keys.append(("IAM role", account, entry.names.role.casefold()))
        if entry.method in (KEYS, MIGRATE):
            keys.append(("IAM user", account, entry.names.user.casefold()))
        for key in keys:
            first = seen.setdefault(key, entry)
            if first is entry:
                continue
            if key[0] == "repository":
                raise UsageError(
                    f"{entry.label}: listed twice (first as {first.label})",
                    "list each repository once",
                )
            name, theirs = _name_in(entry, key[0]), _name_in(first, key[0])
            as_theirs = f" as '{theirs}'" if theirs != name else ""
            raise UsageError(
                f"{entry.label}: {key[0]} '{name}' is also used by {first.label}{as_theirs}",
                "give each repository its own name for it"
                + (" (IAM names are unique without regard to case)" if as_theirs else ""),
            )


def _name_in(entry: Entry, kind: str) -> str:
    return {
        "ECR repository": entry.names.ecr_repository,
        "IAM policy": entry.names.policy,
        "IAM role": entry.names.role,
        "IAM user": entry.names.user,
    }[kind]
