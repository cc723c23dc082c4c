"""The OIDC issuer follows the GitHub host: github.com's, a GHE.com tenant's, or a GitHub
Enterprise Server's, unless --issuer-url names another; through the real command line,
on moto and the GitHub fake (which answers for api.github.com and for GHES_API)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from ghbootstrap.defaults import GITHUB_ISSUER
from tests.conftest import ACCOUNT, REGION, CliResult
from tests.fakes.github import FakeGitHub
from tests.fakes.serve import GHES_API, GHES_ISSUER
from tests.printed import parse_as_printed

Cli = Callable[..., CliResult]
TYPED = "octo-org/hello-world"
ROLE = "ghbootstrap-octo-org-hello-world"
GHES_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/github.example.com/_services/token"
GITHUB_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


@pytest.mark.parametrize(
    ("api_url", "issuer"),
    [
        ("https://api.github.com", GITHUB_ISSUER),
        ("https://API.GitHub.com/", GITHUB_ISSUER),
        ("https://api.octocorp.ghe.com", "https://token.actions.octocorp.ghe.com"),
        ("https://github.example.com/api/v3", GHES_ISSUER),
        ("https://GitHub.Example.com:8443/api/v3", GHES_ISSUER),  # the host's name, no port
        ("http://127.0.0.1:8080", GITHUB_ISSUER),  # no TLS: no GitHub host that issues tokens
    ],
)
def test_the_issuer_a_github_host_issues(api_url: str, issuer: str) -> None:
    from ghbootstrap.hosts import issuer_for

    assert issuer_for(api_url) == issuer


def _iam() -> Any:
    return boto3.client("iam", region_name=REGION)


def _providers() -> list[str]:
    return sorted(
        p["Arn"] for p in _iam().list_open_id_connect_providers()["OpenIDConnectProviderList"]
    )


def _trusted(role: str = ROLE) -> list[str]:
    trust = _iam().get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    return sorted({s["Principal"]["Federated"] for s in trust["Statement"]})


def test_oidc_on_enterprise_server_trusts_the_servers_issuer(
    moto: None, cli: Cli, fake_github: FakeGitHub, here: Path
) -> None:
    """Reproduced before: without --issuer-url the role trusted github.com's provider,
    which a GHES job's token can never assume. GITHUB_API_URL counts as the option does."""
    made = cli("oidc", TYPED, "--github-api-url", GHES_API, "--no-workflow")
    assert made.code == 0, made.err
    assert _providers() == [GHES_PROVIDER]
    assert _trusted() == [GHES_PROVIDER]

    with pytest.MonkeyPatch.context() as env:
        env.setenv("GITHUB_API_URL", GHES_API)
        again = cli("oidc", TYPED, "--no-workflow", "--json")
    assert again.code == 0, again.err
    assert {r["action"] for r in json.loads(again.out)["resources"]} == {"no change"}


def test_an_earlier_server_setup_on_githubs_issuer_moves_as_an_update(
    moto: None, cli: Cli, fake_github: FakeGitHub, here: Path
) -> None:
    """Made before this release (github.com's issuer, the only default) and run again:
    the trust moves to the server's issuer, reported as an update with why, not refused
    as a hand edit (the trust is still the one ghbootstrap wrote). github.com's setup run
    again changes nothing."""
    old = cli(
        "oidc", TYPED, "--github-api-url", GHES_API, "--issuer-url", GITHUB_ISSUER, "--no-workflow"
    )
    assert old.code == 0, old.err
    assert _trusted() == [GITHUB_PROVIDER]
    moved = cli("oidc", TYPED, "--github-api-url", GHES_API, "--no-workflow")
    assert moved.code == 0, moved.err
    assert (
        f"  update     IAM role              {ROLE}  (trust policy differs: moves it from the "
        f"issuer {GITHUB_ISSUER} to {GHES_ISSUER})\n"
    ) in moved.out
    assert _trusted() == [GHES_PROVIDER]

    fake_github.add_repo("octo-org/other")
    assert cli("oidc", "octo-org/other", "--no-workflow").code == 0
    same = cli("oidc", "octo-org/other", "--no-workflow", "--json")
    assert same.code == 0, same.err
    assert {r["action"] for r in json.loads(same.out)["resources"]} == {"no change"}
    assert _trusted("ghbootstrap-octo-org-other") == [GITHUB_PROVIDER]


MIGRATE_FILE = """
[[repository]]
name = "octo-org/hello-world"
method = "migrate"
workflow = "none"
"""


@pytest.mark.parametrize(
    "how",
    [("--issuer-url", GHES_ISSUER), ("--github-api-url", GHES_API)],
    ids=["issuer-url", "github-api-url"],
)
def test_apply_migrate_entries_take_the_issuer(
    moto: None, cli: Cli, fake_github: FakeGitHub, here: Path, how: tuple[str, str]
) -> None:
    """Reproduced before: `apply --issuer-url` reached `method = "oidc"` entries only; a
    migrate entry's role trusted github.com's provider. Its printed repair names the
    issuer, and runs as printed."""
    assert cli("keys", TYPED, "--no-workflow").code == 0
    (here / "retire.toml").write_text(MIGRATE_FILE)
    done = cli("apply", "retire.toml", *how)
    assert done.code == 0, done.out + done.err
    assert _trusted() == [GHES_PROVIDER]

    # a repair of the entry (the variable changed by someone) names the issuer
    fake_github.repo("Octo-Org/Hello-World").scope.variables["AWS_REGION"]["value"] = "x"
    failed = cli("apply", "retire.toml", *how)
    assert failed.code == 1
    [repair] = [line.split("repair: ")[1] for line in failed.out.splitlines() if "repair: " in line]
    assert f"--issuer-url {GHES_ISSUER}" in repair
    with pytest.MonkeyPatch.context() as patch:
        assert parse_as_printed(repair, patch).request.issuer == GHES_ISSUER
    assert cli(*shlex.split(repair)[1:]).code == 0
    assert _trusted() == [GHES_PROVIDER]


def _on_githubs_issuer_for_a_server(cli: Cli) -> None:
    """A role of a server's repository trusting github.com's issuer (an earlier release's
    default there): the server's jobs can never assume it."""
    made = cli(
        "oidc", TYPED, "--github-api-url", GHES_API, "--issuer-url", GITHUB_ISSUER, "--no-workflow"
    )
    assert made.code == 0, made.err
    assert _trusted() == [GITHUB_PROVIDER]


def test_explain_judges_the_token_a_servers_job_presents(
    moto: None, cli: Cli, fake_github: FakeGitHub, here: Path
) -> None:
    """The job described comes from the server: its token's issuer is the server's, not
    the one the role happens to trust. It used to be judged with the role's issuer, and
    admitted."""
    _on_githubs_issuer_for_a_server(cli)
    result = cli("explain", TYPED, "--github-api-url", GHES_API, "--json")
    assert result.code == 3, result.out
    answer = json.loads(result.out)
    assert (answer["issuer"], answer["admitted"], answer["fix"]) == (GHES_ISSUER, False, None)
    assert answer["reason"].startswith(
        f"the token comes from {GHES_ISSUER}; the role trusts {GITHUB_ISSUER}"
    )
    named = cli("explain", TYPED, "--github-api-url", GHES_API, "--issuer-url", GITHUB_ISSUER)
    assert named.code == 0, named.out  # an issuer given is the one judged


def test_a_repair_keeps_the_issuer_the_role_trusts_whatever_host_it_names(
    moto: None, cli: Cli, fake_github: FakeGitHub, here: Path
) -> None:
    """Repairing a variable must not move the trust: the printed command names the
    role's issuer even where the host's default would differ."""
    _on_githubs_issuer_for_a_server(cli)
    fake_github.repo("Octo-Org/Hello-World").scope.variables.pop("AWS_REGION")
    drifted = cli("status", TYPED, "--github-api-url", GHES_API, "--json")
    assert drifted.code == 3, drifted.out
    [fix] = [
        c["fix"]
        for c in json.loads(drifted.out)["checks"]
        if c["resource"] == "GitHub variable" and c["state"] != "ok"
    ]
    assert fix == (
        f"ghbootstrap oidc {TYPED} --region {REGION} --issuer-url {GITHUB_ISSUER} "
        f"--github-api-url {GHES_API} --no-workflow"
    )
    repaired = cli(*shlex.split(fix)[1:], "--json")
    assert repaired.code == 0, repaired.err
    assert [
        c["resource"] for c in json.loads(repaired.out)["resources"] if c["action"] != "no change"
    ] == ["GitHub variable"]
    assert _trusted() == [GITHUB_PROVIDER]


def test_status_sees_a_role_no_job_of_the_server_can_assume_and_repairs_it(
    moto: None, cli: Cli, fake_github: FakeGitHub, here: Path
) -> None:
    """It said "Everything matches" of a role on github.com's issuer for a server's
    repository. Now: drift, and the setup on the server's issuer, run as printed."""
    _on_githubs_issuer_for_a_server(cli)
    drifted = cli("status", TYPED, "--github-api-url", GHES_API, "--json")
    assert drifted.code == 3, drifted.out
    role = next(c for c in json.loads(drifted.out)["checks"] if c["resource"] == "IAM role")
    assert role["detail"] == (
        f"it trusts tokens of {GITHUB_ISSUER}, and the jobs of Octo-Org/Hello-World on "
        f"github.example.com present tokens of {GHES_ISSUER}: none can assume it"
    )
    assert role["fix"] == (
        f"ghbootstrap oidc {TYPED} --region {REGION} --issuer-url {GHES_ISSUER} "
        f"--github-api-url {GHES_API} --no-workflow"
    )
    moved = cli(*shlex.split(role["fix"])[1:])
    assert moved.code == 0, moved.err
    assert _trusted() == [GHES_PROVIDER]
    assert cli("status", TYPED, "--github-api-url", GHES_API).code == 0
    admitted = cli("explain", TYPED, "--github-api-url", GHES_API)
    assert admitted.code == 0, admitted.out
