"""repairs.py: every command the tool prints, built from a setup, word for word, and read
back by the real command line (tests/printed.py) into the very setup it was built from:
region, profile, GitHub API URL, names that are not the default, every scope, and
environment names a shell would otherwise split or unquote."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from ghbootstrap.defaults import GITHUB_ISSUER
from ghbootstrap.errors import UsageError
from ghbootstrap.flows.keys import KeysRequest
from ghbootstrap.flows.migrate import FinishRequest
from ghbootstrap.flows.oidc import OidcRequest
from ghbootstrap.flows.rotate import RotateRequest
from ghbootstrap.footprint import OidcGiven
from ghbootstrap.repairs import keys_command, migrate_finish_command, oidc_command, rotate_command
from ghbootstrap.subjects import Scopes
from ghbootstrap.target import Names, RepoRef
from tests.printed import parse_as_printed

REF = RepoRef("Octo-Org", "Hello-World")
DEFAULTS = Names.resolve(REF)
ODD = 'prod: eu "blue" it\'s'  # a colon, a space, both quotes: a valid GitHub environment
ODD_QUOTED = "'prod: eu \"blue\" it'\"'\"'s'"
API = "https://ghe.example.com/api/v3"
ENTERPRISE_ISSUER = "https://token.actions.githubusercontent.com/octo-enterprise"
NO_SCOPES = Scopes()  # the default branch alone
CUSTOM = Names.resolve(
    REF, ecr_repository="team/img", policy="Push+Policy", role="CI-Role.x", user="ci@user"
)


def oidc_setup(
    scopes: Scopes = NO_SCOPES,
    *,
    ecr_repository: str = DEFAULTS.ecr_repository,
    policy: str = DEFAULTS.policy,
    role: str = DEFAULTS.role,
    mutable_tags: bool = False,
    issuer: str = GITHUB_ISSUER,
    ecr_named: bool = False,
) -> OidcGiven:
    """What `oidc` was given in eu-west-1: by default, the default names and no scope."""
    return OidcGiven(
        region="eu-west-1",
        ecr_repository=ecr_repository,
        policy=policy,
        role=role,
        scopes=scopes,
        mutable_tags=mutable_tags,
        issuer=issuer,
        ecr_named=ecr_named,
    )


def test_the_default_names_these_commands_leave_out() -> None:
    derived = Names.resolve(REF)
    assert derived == Names(
        ecr_repository="octo-org/hello-world",
        policy="ghbootstrap-ecr-push-octo-org-hello-world",
        role="ghbootstrap-octo-org-hello-world",
        user="ghbootstrap-octo-org-hello-world",
    )


# -- oidc ---------------------------------------------------------------------------------


def test_oidc_with_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    command = oidc_command(REF, oidc_setup())
    assert command == "ghbootstrap oidc Octo-Org/Hello-World --region eu-west-1 --no-workflow"
    parsed = parse_as_printed(command, monkeypatch)
    assert parsed.command == "oidc"
    assert (parsed.options["region"], parsed.options["profile"]) == ("eu-west-1", None)
    assert parsed.options["github_api_url"] is None
    assert parsed.request == OidcRequest(ref=REF, names=DEFAULTS, scopes=NO_SCOPES)


def test_oidc_with_every_option(monkeypatch: pytest.MonkeyPatch) -> None:
    scopes = Scopes.parse(["main", "release/*"], ["v*"], [ODD, "staging"], pull_requests=True)
    setup = oidc_setup(
        scopes,
        ecr_repository="team/img",
        policy="Push+Policy",
        role="CI-Role.x",
        mutable_tags=True,
        issuer=ENTERPRISE_ISSUER,
    )
    command = oidc_command(REF, setup, force=True, profile="ci admin", github_api_url=API)
    assert command == (
        "ghbootstrap oidc Octo-Org/Hello-World --region eu-west-1 --profile 'ci admin' "
        "--role-name CI-Role.x --policy-name Push+Policy --ecr-repo team/img "
        f"--issuer-url {ENTERPRISE_ISSUER} --github-api-url {API} "
        "--branch main --branch 'release/*' --tag 'v*' "
        f"--environment {ODD_QUOTED} --environment staging "
        "--pull-requests --mutable-tags --no-workflow --force"
    )
    parsed = parse_as_printed(command, monkeypatch)
    assert parsed.options["region"] == "eu-west-1"
    assert parsed.options["profile"] == "ci admin"
    assert parsed.options["github_api_url"] == API
    assert parsed.request == OidcRequest(
        ref=REF,
        names=Names.resolve(REF, ecr_repository="team/img", policy="Push+Policy", role="CI-Role.x"),
        scopes=scopes,
        immutable_tags=False,
        issuer=ENTERPRISE_ISSUER,
        force=True,
    )


def test_oidc_keeps_the_job_workflows(monkeypatch: pytest.MonkeyPatch) -> None:
    platform = (
        "acme/platform/.github/workflows/build.yml@refs/heads/main",
        "acme/platform/.github/workflows/build.yml@refs/tags/v2",
    )
    setup = replace(oidc_setup(), job_workflows=platform)
    command = oidc_command(REF, setup)
    assert command == (
        "ghbootstrap oidc Octo-Org/Hello-World --region eu-west-1 "
        f"--job-workflow {platform[0]} --job-workflow {platform[1]} --no-workflow"
    )
    parsed = parse_as_printed(command, monkeypatch)
    assert parsed.request == OidcRequest(
        ref=REF, names=DEFAULTS, scopes=NO_SCOPES, job_workflows=platform
    )


def test_oidc_names_an_ecr_repository_given_by_name_even_if_it_is_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given with --ecr-repo, a repository may be shared on purpose: the repair says so."""
    command = oidc_command(REF, oidc_setup(ecr_named=True))
    assert command == (
        "ghbootstrap oidc Octo-Org/Hello-World --region eu-west-1 "
        "--ecr-repo octo-org/hello-world --no-workflow"
    )
    names = parse_as_printed(command, monkeypatch).request.names
    assert names == Names.resolve(REF, ecr_repository="octo-org/hello-world")
    assert names.ecr_named is True


def test_oidc_leaves_out_github_coms_issuer() -> None:
    command = oidc_command(REF, oidc_setup(issuer=GITHUB_ISSUER))
    assert "--issuer-url" not in command


@pytest.mark.parametrize(
    ("workflow", "tail", "path", "open_pr"),
    [
        (("--open-pr",), "--open-pr", Path(".github/workflows/ecr-build-push.yml"), True),
        (("--workflow-path", "ci/build it.yml"), "--workflow-path 'ci/build it.yml'", None, False),
    ],
    ids=["pull-request", "path"],
)
def test_oidc_repeats_how_the_workflow_is_delivered(
    workflow: tuple[str, ...],
    tail: str,
    path: Path | None,
    open_pr: bool,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # a path on this machine is checked where the command runs
    command = oidc_command(REF, oidc_setup(Scopes(branches=("main",))), workflow=workflow)
    assert command == (
        f"ghbootstrap oidc Octo-Org/Hello-World --region eu-west-1 --branch main {tail}"
    )
    request = parse_as_printed(command, monkeypatch).request
    assert request.open_pr is open_pr
    assert request.workflow_path == (path or Path("ci/build it.yml"))


# -- keys ---------------------------------------------------------------------------------


def test_keys_with_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    command = keys_command(REF, "us-east-2", DEFAULTS, None)
    assert command == "ghbootstrap keys Octo-Org/Hello-World --region us-east-2 --no-workflow"
    parsed = parse_as_printed(command, monkeypatch)
    assert parsed.command == "keys"
    assert parsed.options["region"] == "us-east-2"
    assert parsed.request == KeysRequest(ref=REF, names=DEFAULTS)


def test_keys_with_every_option(monkeypatch: pytest.MonkeyPatch) -> None:
    command = keys_command(
        REF,
        "us-east-2",
        CUSTOM,
        ODD,
        mutable_tags=True,
        force=True,
        profile="ci",
        github_api_url=API,
        rotation_schedule="17 3 * * 1",
    )
    assert command == (
        "ghbootstrap keys Octo-Org/Hello-World --region us-east-2 --profile ci "
        "--user-name ci@user --policy-name Push+Policy --ecr-repo team/img "
        f"--github-api-url {API} --environment {ODD_QUOTED} --mutable-tags "
        "--rotation-schedule '17 3 * * 1' --no-workflow --force"
    )
    parsed = parse_as_printed(command, monkeypatch)
    assert (parsed.options["profile"], parsed.options["github_api_url"]) == ("ci", API)
    assert parsed.request == KeysRequest(
        ref=REF,
        names=Names.resolve(REF, ecr_repository="team/img", policy="Push+Policy", user="ci@user"),
        environment=ODD,
        immutable_tags=False,
        rotation_schedule="17 3 * * 1",
        force=True,
    )


def test_keys_names_an_ecr_repository_given_by_name_even_if_it_is_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    named = Names.resolve(REF, ecr_repository=DEFAULTS.ecr_repository)
    command = keys_command(REF, "us-east-2", named, None)
    assert command == (
        "ghbootstrap keys Octo-Org/Hello-World --region us-east-2 "
        "--ecr-repo octo-org/hello-world --no-workflow"
    )
    assert parse_as_printed(command, monkeypatch).request.names.ecr_named is True


def test_keys_leaves_out_a_role_name_it_has_no_option_for() -> None:
    """keys makes no role: CUSTOM's role name is not part of its command."""
    assert "--role-name" not in keys_command(REF, "us-east-2", CUSTOM, None)


# -- rotate -------------------------------------------------------------------------------


def test_rotate_with_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    command = rotate_command(REF, "eu-west-1", DEFAULTS.user, None)
    assert command == "ghbootstrap rotate Octo-Org/Hello-World --region eu-west-1"
    parsed = parse_as_printed(command, monkeypatch)
    assert parsed.command == "rotate"
    assert parsed.request == RotateRequest(ref=REF, user=DEFAULTS.user)


def test_rotate_with_every_option(monkeypatch: pytest.MonkeyPatch) -> None:
    command = rotate_command(
        REF, "eu-west-1", "ci@user", ODD, profile="ci admin", github_api_url=API
    )
    assert command == (
        "ghbootstrap rotate Octo-Org/Hello-World --region eu-west-1 --profile 'ci admin' "
        f"--user-name ci@user --github-api-url {API} --environment {ODD_QUOTED}"
    )
    parsed = parse_as_printed(command, monkeypatch)
    assert parsed.options["region"] == "eu-west-1"
    assert parsed.request == RotateRequest(
        ref=REF, user="ci@user", environment=ODD, profile="ci admin", github_api_url=API
    )


# -- migrate --finish ---------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_migrate_finish_with_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    command = migrate_finish_command(REF, "eu-west-1", DEFAULTS)
    assert command == "ghbootstrap migrate Octo-Org/Hello-World --finish --region eu-west-1"
    # It is printed without --yes: it asks, so the person who runs it has a terminal.
    monkeypatch.setattr("sys.stdin", _Terminal())
    parsed = parse_as_printed(command, monkeypatch)
    assert parsed.command == "migrate"
    assert parsed.request == FinishRequest(ref=REF, names=DEFAULTS)


def test_migrate_finish_with_every_option(monkeypatch: pytest.MonkeyPatch) -> None:
    command = migrate_finish_command(
        REF,
        "eu-west-1",
        CUSTOM,
        workflow_path=".github/workflows/build it.yml",
        profile="ci",
        github_api_url=API,
        issuer=ENTERPRISE_ISSUER,
    )
    assert command == (
        "ghbootstrap migrate Octo-Org/Hello-World --finish --region eu-west-1 --profile ci "
        "--user-name ci@user --role-name CI-Role.x --policy-name Push+Policy "
        f"--ecr-repo team/img --issuer-url {ENTERPRISE_ISSUER} "
        f"--workflow-path '.github/workflows/build it.yml' --github-api-url {API}"
    )
    monkeypatch.setattr("sys.stdin", _Terminal())
    parsed = parse_as_printed(command, monkeypatch)
    assert (parsed.options["profile"], parsed.options["github_api_url"]) == ("ci", API)
    assert parsed.request == FinishRequest(
        ref=REF,
        names=CUSTOM,
        workflow_path=".github/workflows/build it.yml",
        issuer=ENTERPRISE_ISSUER,
        profile="ci",
        github_api_url=API,
    )


def test_migrate_finish_names_an_ecr_repository_given_by_name_even_if_it_is_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    named = Names.resolve(REF, ecr_repository=DEFAULTS.ecr_repository)
    command = migrate_finish_command(REF, "eu-west-1", named)
    assert command == (
        "ghbootstrap migrate Octo-Org/Hello-World --finish --region eu-west-1 "
        "--ecr-repo octo-org/hello-world"
    )
    monkeypatch.setattr("sys.stdin", _Terminal())
    assert parse_as_printed(command, monkeypatch).request.names.ecr_named is True


def test_migrate_finish_leaves_out_the_default_workflow_path() -> None:
    command = migrate_finish_command(
        REF, "eu-west-1", DEFAULTS, workflow_path=".github/workflows/ecr-build-push.yml"
    )
    assert command == "ghbootstrap migrate Octo-Org/Hello-World --finish --region eu-west-1"


# -- the reading itself refuses what the command line refuses ---------------------------------


def test_reading_back_fails_on_an_option_the_command_line_does_not_know(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(AssertionError, match="usage error"):
        parse_as_printed("ghbootstrap oidc Octo-Org/Hello-World --pull-request", monkeypatch)


def test_reading_back_fails_on_a_value_the_command_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(UsageError, match="--branch 'a b' is not a valid git ref name"):
        parse_as_printed("ghbootstrap oidc Octo-Org/Hello-World --branch 'a b'", monkeypatch)
