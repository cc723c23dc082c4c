"""`apply FILE`, `status --file`, `destroy --file` in-process: moto for AWS, the GitHub fake
behind `responses`, the real entry point. Workers run on threads, as they do for users."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ghbootstrap.aws import session as aws_session
from ghbootstrap.aws.session import Aws
from ghbootstrap.github.pacing import GATE
from ghbootstrap.trusteval import may_assume
from tests.conftest import ACCOUNT, REGION, AwsCalls, CliResult, moto_secret
from tests.contract import Contract
from tests.fakes.github import FakeGitHub, Limits, Request, Response, _error
from tests.fakes.serve import serving

HOST = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}"

FLEET = """
[defaults]
region = "us-east-1"
workflow = "none"

[[repository]]
name = "acme/api"
environments = ["prod"]
tags = ["v*"]

[[repository]]
name = "acme/web"
branches = ["main", "release/*"]
pull_requests = true

[[repository]]
name = "acme/legacy"
method = "keys"
rotation_schedule = "17 4 * * 1"
ecr_repo = "legacy"

[[repository]]
name = "acme/batch"
method = "keys"
environments = ["ci"]
"""
REPOS = ("acme/api", "acme/web", "acme/legacy", "acme/batch")


@pytest.fixture
def fleet(moto: None, fake_github: FakeGitHub) -> FakeGitHub:
    for name in REPOS:
        fake_github.add_repo(name)
    return fake_github


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch, aws_calls: AwsCalls) -> AwsCalls:
    """Every AWS call of every session the CLI connects."""
    connect = aws_session.connect

    def recording(profile: str | None, region: str | None) -> Aws:
        aws = connect(profile, region)
        aws.session.events.register("before-call", aws_calls.record)
        return aws

    monkeypatch.setattr(aws_session, "connect", recording)
    return aws_calls


@pytest.fixture
def boto(moto: None) -> Any:
    import boto3

    return lambda service: boto3.client(service, region_name=REGION)


def write(tmp_path: Path, text: str, name: str = "fleet.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def subjects_admitted(iam: Any, role: str, candidates: list[str], fake: FakeGitHub) -> list[str]:
    """The subs whose jobs are admitted, each with the claims of the repository it names
    (its id, as the fake has it)."""
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]

    def claims(sub: str) -> dict[str, str]:
        repository_id = str(fake.repo(sub.split(":")[1]).id)
        return {"sub": sub, "aud": "sts.amazonaws.com", "repository_id": repository_id}

    return [sub for sub in candidates if may_assume(trust, PROVIDER_ARN, HOST, claims(sub))]


# -- the whole file is checked before any call -------------------------------------------------

BAD_FILES = [
    (
        "[[repository]]\nname = 'acme/api'\n[[repository]]\nname = 'acme/web'\n"
        "[[repository]]\nname = 'acme/x'\nbrnches = ['main']\n",
        "repository[3] acme/x: unknown key 'brnches': did you mean 'branches'?",
    ),
    (
        "name = 'acme/api'\n",
        "FILE: unknown table 'name': the file holds [defaults] and [[repository]] entries",
    ),
    (
        "[[repository]\n",
        "FILE is not valid TOML: Expected ']]' at the end of an array "
        "declaration (at line 1, column 13): fix the file and run again",
    ),
    (
        "[defaults]\nregion = 'us-east-1'\n",
        'FILE lists no repositories: add [[repository]] entries, each with name = "OWNER/REPO"',
    ),
    (
        "[[repository]]\nregion = 'us-east-1'\n",
        "repository[1]: no 'name': add name = \"OWNER/REPO\"",
    ),
    (
        "[[repository]]\nname = 'acme'\n",
        "repository[1]: 'acme' is not OWNER/REPO: give the repository as OWNER/REPO, for "
        "example octo-org/hello-world",
    ),
    (
        "[[repository]]\nname = 'acme/api'\n[[repository]]\nname = 'ACME/API'\n",
        "repository[2] ACME/API: listed twice (first as repository[1] acme/api): list each "
        "repository once",
    ),
    (
        "[[repository]]\nname = 'acme/api'\necr_repo = 'shared'\n"
        "[[repository]]\nname = 'acme/web'\necr_repo = 'shared'\n",
        "repository[2] acme/web: ECR repository 'shared' is also used by repository[1] "
        "acme/api: give each repository its own name for it",
    ),
    (
        "[[repository]]\nname = 'acme/api'\nrole_name = 'ci'\n"
        "[[repository]]\nname = 'acme/web'\nrole_name = 'ci'\n",
        "repository[2] acme/web: IAM role 'ci' is also used by repository[1] acme/api: give "
        "each repository its own name for it",
    ),
    (
        "[[repository]]\nname = 'acme/api'\nregion = ''\n",
        "repository[1] acme/api: 'region' is empty: give a value, or leave the key out for "
        "the default",
    ),
    (
        "[[repository]]\nname = 'acme/api'\nbranches = 'main'\n",
        "repository[1] acme/api: 'branches' must be a list of strings: for example branches "
        '= ["..."]',
    ),
    (
        "[[repository]]\nname = 'acme/api'\npull_requests = 'yes'\n",
        "repository[1] acme/api: 'pull_requests' must be true or false: for example "
        "pull_requests = true",
    ),
    (
        "[[repository]]\nname = 'acme/api'\nmethod = 'key'\n",
        'repository[1] acme/api: method \'key\' is not known: use "oidc", "keys" or "migrate"',
    ),
    (
        "[[repository]]\nname = 'acme/api'\nmethod = 'keys'\nbranches = ['main']\n",
        "repository[1] acme/api: 'branches' does not apply to method \"keys\": remove it, or "
        'set the method that takes it ("oidc" or "migrate")',
    ),
    (
        "[[repository]]\nname = 'acme/api'\nmethod = 'keys'\nenvironments = ['a', 'b']\n",
        'repository[1] acme/api: method "keys" keeps its secrets in one environment, and '
        "'environments' lists 2: list at most one environment for this repository",
    ),
    (
        "[[repository]]\nname = 'acme/api'\nmethod = 'keys'\nrotation_schedule = '61 * * * *'\n",
        "repository[1] acme/api: '61 * * * *' is not a valid five-field cron expression: use "
        "MINUTE HOUR DAY MONTH WEEKDAY, for example '17 4 * * 1' (Mondays 04:17 UTC)",
    ),
    (
        "[[repository]]\nname = 'acme/api'\ntags = ['v..1']\n",
        "repository[1] acme/api: --tag 'v..1' is not a valid git ref name: use a name such as "
        "main or release/1.x ('*' and '?' are wildcards)",
    ),
    (
        "[[repository]]\nname = 'acme/api'\nrole_name = 'a b'\n",
        "repository[1] acme/api: 'a b' is not a valid IAM role name: use 1-64 letters, digits "
        "or + = , . @ _ -",
    ),
    (
        "[defaults]\nworkflow = 'ci.yml'\n[[repository]]\nname = 'acme/api'\n"
        "[[repository]]\nname = 'acme/web'\n",
        "repository[2] acme/web: a workflow path is for one repository only (repository[1] "
        'acme/api has one): the path is the checkout of one repository: use "pull-request" '
        'or "none" for others',
    ),
    (
        "[[repository]]\nname = 'acme/api'\nworkflow = 'pull_request'\n",
        'repository[1] acme/api: workflow \'pull_request\' is neither "pull-request", "none" '
        'nor a .yml path: use "pull-request" (the default), "none", or the path of a '
        "workflow file",
    ),
    (
        "[[repository]]\nname = 'acme/api'\nregion = 'mars-north-1'\nworkflow = 'none'\n",
        "repository[1] acme/api: 'mars-north-1' is not an AWS region this tool knows: pass "
        "--region with a region such as us-east-1 (a new region may need a newer boto3)",
    ),
    (
        "[defaults]\nname = 'acme/api'\n[[repository]]\nname = 'acme/api'\n",
        "[defaults]: 'name' names one repository: set name in each [[repository]] entry",
    ),
    # Checked as `oidc` checks it: a workflow needs an exact trigger (before any call, not
    # after the account's provider was made).
    (
        "[[repository]]\nname = 'acme/api'\nbranches = ['rel-?']\n",
        "repository[1] acme/api: --branch 'rel-?' has no exact workflow trigger: GitHub's "
        "filter syntax has no 'any one character', so the workflow would not run for the refs "
        "the role admits: use '*' instead of '?', list the names, or pass --no-workflow",
    ),
    # The profile's region (us-east-1 here) and the same region written out are one region.
    (
        "[[repository]]\nname = 'acme/api'\necr_repo = 'shared'\nworkflow = 'none'\n"
        "[[repository]]\nname = 'acme/web'\necr_repo = 'shared'\nregion = 'us-east-1'\n"
        "workflow = 'none'\n",
        "repository[2] acme/web: ECR repository 'shared' is also used by repository[1] "
        "acme/api: give each repository its own name for it",
    ),
    # IAM names are unique without regard to case; moto would accept both.
    (
        "[[repository]]\nname = 'acme/api'\nrole_name = 'CI-Role'\nworkflow = 'none'\n"
        "[[repository]]\nname = 'acme/web'\nrole_name = 'ci-role'\nworkflow = 'none'\n",
        "repository[2] acme/web: IAM role 'ci-role' is also used by repository[1] acme/api as "
        "'CI-Role': give each repository its own name for it (IAM names are unique without "
        "regard to case)",
    ),
    (
        "[[repository]]\nname = 'acme/api'\nmethod = 'keys'\npolicy_name = 'Push'\n"
        "workflow = 'none'\n[[repository]]\nname = 'acme/web'\npolicy_name = 'push'\n"
        "workflow = 'none'\n",
        "repository[2] acme/web: IAM policy 'push' is also used by repository[1] acme/api as "
        "'Push': give each repository its own name for it (IAM names are unique without "
        "regard to case)",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_file_is_refused_whole_before_any_call(
    cli: Any, fleet: FakeGitHub, recorded: AwsCalls, tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    done: CliResult = cli("apply", str(path))
    assert done.code == 2
    assert done.out == ""
    assert done.err == f"error: {message.replace('FILE', str(path))}\n"
    assert fleet.requests == []
    assert recorded.names == []


def test_a_missing_file(cli: Any, fleet: FakeGitHub, tmp_path: Path) -> None:
    done = cli("apply", str(tmp_path / "nothing.toml"))
    assert done.code == 2
    assert done.err == (
        f"error: cannot read {tmp_path / 'nothing.toml'}: No such file or directory: "
        "give the path of an apply file (TOML)\n"
    )
    assert fleet.requests == []


# -- a fleet on the emulators ------------------------------------------------------------------


def test_a_mixed_fleet_is_set_up_and_a_rerun_writes_nothing(
    cli: Any, fleet: FakeGitHub, recorded: AwsCalls, boto: Any, tmp_path: Path
) -> None:
    path = write(tmp_path, FLEET)
    done = cli("apply", str(path), "--jobs", "4")
    assert done.code == 0, done.err
    assert done.err == ""  # no progress line when stderr is not a terminal
    assert recorded.names.count("iam.CreateOpenIDConnectProvider") == 1
    first_role = recorded.names.index("iam.GetRole")
    assert recorded.names.index("iam.CreateOpenIDConnectProvider") < first_role
    summary = done.out.split("\nSummary\n")[1]
    assert summary == (
        "  changed    acme/api     12 created\n"
        "  changed    acme/web     8 created\n"
        "  changed    acme/legacy  9 created\n"
        "  changed    acme/batch   9 created\n"
        "4 repositories: 4 changed.\n"
    )

    iam = boto("iam")
    api = subjects_admitted(
        iam,
        "ghbootstrap-acme-api",
        [
            "repo:acme/api:environment:prod",
            "repo:acme/api:ref:refs/tags/v1.2",
            "repo:acme/api:ref:refs/heads/main",
            "repo:acme/web:environment:prod",
        ],
        fleet,
    )
    assert api == ["repo:acme/api:environment:prod", "repo:acme/api:ref:refs/tags/v1.2"]
    web = subjects_admitted(
        iam,
        "ghbootstrap-acme-web",
        [
            "repo:acme/web:ref:refs/heads/main",
            "repo:acme/web:ref:refs/heads/release/2.0",
            "repo:acme/web:pull_request",
            "repo:acme/web:ref:refs/heads/dev",
            "repo:acme/api:pull_request",
        ],
        fleet,
    )
    assert web == [
        "repo:acme/web:ref:refs/heads/main",
        "repo:acme/web:ref:refs/heads/release/2.0",
        "repo:acme/web:pull_request",
    ]
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/ghbootstrap-acme-api"
    assert fleet.variables("acme/api", "prod") == {
        "AWS_ROLE_ARN": role_arn,
        "AWS_REGION": REGION,
        "ECR_REPOSITORY": "acme/api",
    }
    legacy_key = fleet.secret("acme/legacy", "AWS_ACCESS_KEY_ID")
    assert legacy_key is not None
    assert fleet.secret("acme/legacy", "AWS_SECRET_ACCESS_KEY") == moto_secret(
        "ghbootstrap-acme-legacy", legacy_key
    )
    assert fleet.variables("acme/legacy")["ECR_REPOSITORY"] == "legacy"
    assert iam.get_user_policy(
        UserName="ghbootstrap-acme-legacy", PolicyName="ghbootstrap-self-rotation"
    )
    batch_key = fleet.secret("acme/batch", "AWS_ACCESS_KEY_ID", "ci")
    assert batch_key is not None
    assert fleet.secret("acme/batch", "AWS_SECRET_ACCESS_KEY", "ci") == moto_secret(
        "ghbootstrap-acme-batch", batch_key
    )
    repositories = boto("ecr").describe_repositories()["repositories"]
    assert sorted(r["repositoryName"] for r in repositories) == [
        "acme/api",
        "acme/batch",
        "acme/web",
        "legacy",
    ]

    mark, github_writes = len(recorded.names), len(fleet.writes())
    again = cli("apply", str(path), "--json")
    assert again.code == 0, again.err
    assert recorded.writes_since(mark) == []
    assert fleet.writes()[github_writes:] == []
    result = json.loads(again.out)
    assert [(r["name"], r["ok"], r["state"], r["error"]) for r in result["repositories"]] == [
        (name, True, "unchanged", None) for name in REPOS
    ]
    assert [c["action"] for c in result["shared"]] == ["no change"]


def test_dry_run_plans_the_provider_once_and_writes_nothing(
    cli: Any, fleet: FakeGitHub, recorded: AwsCalls, tmp_path: Path
) -> None:
    done = cli("apply", str(write(tmp_path, FLEET)), "--dry-run")
    assert done.code == 0, done.err
    assert recorded.writes == []
    assert fleet.writes() == []
    assert done.out.count("OIDC provider  token.actions") == 1
    assert "  create     OIDC provider  token.actions.githubusercontent.com" in done.out
    assert done.out.endswith("4 repositories: 4 to change.\n")


def test_one_failing_repository_does_not_stop_the_others(
    cli: Any, fleet: FakeGitHub, recorded: AwsCalls, boto: Any, tmp_path: Path
) -> None:
    boto("iam").create_role(RoleName="ghbootstrap-acme-web", AssumeRolePolicyDocument="{}")
    text = FLEET + '\n[[repository]]\nname = "acme/gone"\n'
    done = cli("apply", str(write(tmp_path, text)), "--jobs", "3")
    assert done.code == 1
    summary = done.out.split("\nSummary\n")[1]
    assert summary == (
        "  changed    acme/api     12 created\n"
        "  failed     acme/web     IAM role ghbootstrap-acme-web exists and was not made by "
        "ghbootstrap for acme/web: choose another name with --role-name, or remove it yourself\n"
        "                          repair: ghbootstrap oidc acme/web --region us-east-1 "
        "--branch main --branch 'release/*' --pull-requests --no-workflow\n"
        "  changed    acme/legacy  9 created\n"
        "  changed    acme/batch   9 created\n"
        "  failed     acme/gone    GitHub repository acme/gone not found: check OWNER/REPO, "
        "and that the token can see the repository\n"
        "                          repair: ghbootstrap oidc acme/gone --region us-east-1 "
        "--no-workflow\n"
        "5 repositories: 3 changed, 2 failed.\n"
    )
    assert fleet.secret("acme/batch", "AWS_ACCESS_KEY_ID", "ci") is not None

    # The repair runs as printed, once the foreign role is out of the way.
    boto("iam").delete_role(RoleName="ghbootstrap-acme-web")
    repair = next(line for line in summary.splitlines() if "ghbootstrap oidc acme/web" in line)
    argv = shlex.split(repair.split("repair: ")[1])
    assert argv[0] == "ghbootstrap"
    repaired = cli(*argv[1:])
    assert repaired.code == 0, repaired.err
    assert subjects_admitted(
        boto("iam"),
        "ghbootstrap-acme-web",
        ["repo:acme/web:ref:refs/heads/release/1", "repo:acme/web:pull_request"],
        fleet,
    ) == ["repo:acme/web:ref:refs/heads/release/1", "repo:acme/web:pull_request"]
    again = cli("apply", str(tmp_path / "fleet.toml"), "--json")
    assert [r["state"] for r in json.loads(again.out)["repositories"][:4]] == ["unchanged"] * 4


def test_json_names_every_repository_once(cli: Any, fleet: FakeGitHub, tmp_path: Path) -> None:
    text = FLEET + '\n[[repository]]\nname = "acme/gone"\n'
    done = cli("apply", str(write(tmp_path, text)), "--json", "--jobs", "5")
    assert done.code == 1
    result = json.loads(done.out)
    assert [r["name"] for r in result["repositories"]] == [*REPOS, "acme/gone"]
    gone = result["repositories"][-1]
    assert gone["ok"] is False
    assert gone["changes"] == []
    assert gone["error"].startswith("GitHub repository acme/gone not found")
    assert all(r["ok"] and r["error"] is None for r in result["repositories"][:-1])
    assert done.err == ""


@pytest.fixture
def served_fleet(
    moto: None, monkeypatch: pytest.MonkeyPatch, contract: Contract
) -> Iterator[FakeGitHub]:
    """The fake on a real loopback socket: only there do urllib3's retries wait."""
    fake = FakeGitHub()
    for name in REPOS:
        fake.add_repo(name)
    fake.observers.append(contract.observe)
    with serving(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", fake.token)
        yield fake


def test_limit_answers_slow_the_run_but_fail_nothing(
    cli: Any, served_fleet: FakeGitHub, tmp_path: Path
) -> None:
    fake = served_fleet
    fake.limits = Limits(max_in_flight=2, writes_per_second=4, retry_after=1)
    done = cli("apply", str(write(tmp_path, FLEET)), "--jobs", "4", "--json")
    assert done.code == 0, done.out
    assert fake.traffic.limit_answers > 0
    assert GATE.limit_answers == fake.traffic.limit_answers  # each one closed the gate
    result = json.loads(done.out)
    assert all(r["ok"] for r in result["repositories"])
    assert fake.secret("acme/batch", "AWS_ACCESS_KEY_ID", "ci") is not None
    assert len(fake.variables("acme/web")) == 3


def test_progress_line_on_a_terminal(
    cli: Any, fleet: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    done = cli("apply", str(write(tmp_path, FLEET)))
    assert done.code == 0
    assert "\r\x1b[Kapply: 4/4 done, 0 failed" in done.err
    assert done.err.endswith("\r\x1b[K")  # the line is cleared at the end


# -- status and destroy of a file --------------------------------------------------------------


def test_status_and_destroy_take_the_file(
    cli: Any, fleet: FakeGitHub, boto: Any, tmp_path: Path
) -> None:
    path = write(tmp_path, FLEET)
    assert cli("apply", str(path)).code == 0
    checked = cli("status", "--file", str(path), "--json")
    assert checked.code == 0, checked.out
    assert [r["state"] for r in json.loads(checked.out)["repositories"]] == ["ok"] * 4

    fleet.scope("acme/web").variables.pop("AWS_REGION")
    drifted = cli("status", "--file", str(path))
    assert drifted.code == 3
    summary = drifted.out.split("\nSummary\n")[1]
    assert summary == (
        "  ok         acme/api\n"
        "  drift      acme/web\n"
        "                          repair: ghbootstrap oidc acme/web --region us-east-1 "
        "--branch main --branch 'release/*' --pull-requests --no-workflow\n"
        "  ok         acme/legacy\n"
        "  ok         acme/batch\n"
        "4 repositories: 3 ok, 1 drift.\n"
    )

    gone = cli("destroy", "--file", str(path), "--yes", "--json")
    assert gone.code == 0, gone.out
    iam = boto("iam")
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == []
    assert [u["UserName"] for u in iam.list_users()["Users"]] == []
    assert fleet.secret("acme/batch", "AWS_ACCESS_KEY_ID", "ci") is None
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_destroy_of_a_file_deletes_nothing_of_an_entry_whose_plan_failed(
    cli: Any, fleet: FakeGitHub, boto: Any, tmp_path: Path
) -> None:
    """The question covers what the plan listed: an entry GitHub refused to show during
    planning was never listed, so it is not destroyed when GitHub answers again."""
    path = write(tmp_path, FLEET)
    assert cli("apply", str(path)).code == 0
    refused: list[str] = []

    def once(request: Request) -> Response | None:
        if request.method == "GET" and request.path == "/repos/acme/web" and not refused:
            refused.append(request.path)
            return _error(403, "Resource not accessible by personal access token")
        return None

    fleet.faults.append(once)
    gone = cli("destroy", "--file", str(path), "--yes", "--json")
    assert gone.code == 1, gone.out
    states = {r["name"]: r["state"] for r in json.loads(gone.out)["repositories"]}
    assert states == {
        "acme/api": "changed",
        "acme/web": "failed",
        "acme/legacy": "changed",
        "acme/batch": "changed",
    }
    iam = boto("iam")
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["ghbootstrap-acme-web"]
    assert set(fleet.variables("acme/web")) == {"AWS_ROLE_ARN", "AWS_REGION", "ECR_REPOSITORY"}
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1


def test_destroy_of_a_file_asks_about_the_provider_it_may_remove_at_the_end(
    cli: Any, fleet: FakeGitHub, boto: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each entry's plan keeps the provider (the file's other roles trust it), and it is
    deleted once they are gone: the question says so."""
    import sys

    path = write(tmp_path, FLEET)
    assert cli("apply", str(path)).code == 0
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda: "n")
    declined = cli("destroy", "--file", str(path))
    assert declined.code == 1, declined.err
    assert (
        "  OIDC provider  token.actions.githubusercontent.com (if no role outside this file "
        "trusts it)\n" in declined.err
    )
    assert declined.err.endswith(
        "error: nothing was deleted: run again and answer y, or pass --yes\n"
    )
    assert len(boto("iam").list_roles()["Roles"]) == 2


def test_destroy_of_a_file_needs_yes_without_a_terminal(
    cli: Any, fleet: FakeGitHub, tmp_path: Path
) -> None:
    done = cli("destroy", "--file", str(write(tmp_path, FLEET)))
    assert done.code == 2
    assert done.err == (
        "error: destroy asks for confirmation, and no terminal is attached: pass --yes to "
        "delete without asking, or --dry-run to see what would go\n"
    )
    assert fleet.requests == []


def test_file_and_repository_exclude_each_other(
    cli: Any, fleet: FakeGitHub, tmp_path: Path
) -> None:
    path = str(write(tmp_path, FLEET))
    both = cli("status", "acme/api", "--file", path)
    assert both.code == 2
    assert both.err == "error: give OWNER/REPO or --file FILE, not both or neither\n"
    neither = cli("destroy", "--yes")
    assert neither.code == 2
    assert neither.err == both.err
    named = cli("destroy", "--file", path, "--role-name", "x", "--yes")
    assert named.code == 2
    assert named.err == (
        "error: --role-name does not go with --file: the file names it for each repository\n"
    )
    assert fleet.requests == []


def test_progress_says_when_requests_wait_on_the_rate_limit() -> None:
    import io

    from ghbootstrap.render import Progress
    from ghbootstrap.report import Outcome

    stream, waiting = io.StringIO(), [0]
    progress = Progress("apply", 3, stream, lambda: waiting[0])
    progress.finished(Outcome(1, "acme/api"))
    waiting[0] = 2
    progress.finished(Outcome(2, "acme/web", error="GitHub refused"))
    waiting[0] = 0
    progress.draw()
    progress.clear()
    assert stream.getvalue().split("\r\x1b[K") == [
        "",
        "apply: 1/3 done, 0 failed",
        "apply: 2/3 done, 1 failed, waiting on GitHub's rate limit",
        "apply: 2/3 done, 1 failed",
        "",
    ]


def test_status_of_a_file_that_was_never_applied(
    cli: Any, fleet: FakeGitHub, tmp_path: Path
) -> None:
    done = cli("status", "--file", str(write(tmp_path, '[[repository]]\nname = "acme/api"\n')))
    assert done.code == 3
    assert "  drift      acme/api\n" in done.out


def test_the_default_workflow_arrives_as_a_pull_request_in_each_repository(
    cli: Any, fleet: FakeGitHub, tmp_path: Path
) -> None:
    text = FLEET.replace('workflow = "none"\n', "")
    done = cli("apply", str(write(tmp_path, text)), "--jobs", "4", "--json")
    assert done.code == 0, done.out
    assert list(tmp_path.iterdir()) == [tmp_path / "fleet.toml"]  # nothing local
    for name in REPOS:
        repo = fleet.repo(name)
        assert [(p.head, p.base, p.state) for p in repo.pulls] == [
            ("ghbootstrap/ecr-build-push", "main", "open")
        ]
        files = repo.branch_files("ghbootstrap/ecr-build-push")
        assert ".github/workflows/ecr-build-push.yml" in files
    legacy = fleet.repo("acme/legacy").branch_files("ghbootstrap/ecr-build-push")
    assert b"17 4 * * 1" in legacy[".github/workflows/rotate-aws-keys.yml"]
    outputs = {r["name"]: r["outputs"] for r in json.loads(done.out)["repositories"]}
    assert outputs["acme/web"]["pull_request"].endswith("/acme/web/pull/1")

    writes = len(fleet.writes())
    again = cli("apply", str(tmp_path / "fleet.toml"))
    assert again.code == 0, again.err
    assert fleet.writes()[writes:] == []


# -- fleet repairs run as printed ----------------------------------------------------------------


def _repair_of(output: str, name: str) -> list[str]:
    summary = output.split("\nSummary\n")[1].splitlines()
    at = next(i for i, line in enumerate(summary) if f" {name} " in f"{line} ")
    argv = shlex.split(summary[at + 1].split("repair: ")[1])
    assert argv[0] == "ghbootstrap"
    return argv[1:]


def test_fleet_repairs_for_a_variable_someone_changed_carry_force_and_run_as_printed(
    cli: Any, fleet: FakeGitHub, tmp_path: Path
) -> None:
    path = write(tmp_path, FLEET)
    assert cli("apply", str(path)).code == 0
    fleet.scope("acme/web").variables["AWS_REGION"]["value"] = "eu-west-1"  # someone's edit

    checked = cli("status", "--file", str(path))
    assert checked.code == 3
    repair = _repair_of(checked.out, "acme/web")
    assert repair == shlex.split(
        "oidc acme/web --region us-east-1 --branch main --branch 'release/*' --pull-requests "
        "--no-workflow --force"
    )
    applied = cli("apply", str(path))
    assert applied.code == 1
    assert _repair_of(applied.out, "acme/web") == repair

    assert cli(*repair).code == 0
    assert fleet.variables("acme/web")["AWS_REGION"] == "us-east-1"
    again = cli("status", "--file", str(path), "--json")
    assert again.code == 0, again.out
    assert [r["state"] for r in json.loads(again.out)["repositories"]] == ["ok"] * 4


def test_a_fleet_repair_keeps_the_issuer_the_role_trusts(
    cli: Any, fleet: FakeGitHub, boto: Any, tmp_path: Path
) -> None:
    """The file does not name the issuer (`apply --issuer-url` does): `status --file`'s
    repair, run as printed, kept GitHub's and moved an Enterprise Server setup's trust to
    github.com (another provider, and a pin to an id that is not this repository's there)."""
    issuer = "https://github.example.com/_services/token"
    path = write(tmp_path, '[defaults]\nworkflow = "none"\n\n[[repository]]\nname = "acme/api"\n')
    assert cli("apply", str(path), "--issuer-url", issuer).code == 0
    iam = boto("iam")
    before = iam.get_role(RoleName="ghbootstrap-acme-api")["Role"]["AssumeRolePolicyDocument"]
    fleet.scope("acme/api").variables.pop("AWS_REGION")

    drifted = cli("status", "--file", str(path))
    assert drifted.code == 3
    repair = _repair_of(drifted.out, "acme/api")
    assert repair == shlex.split(
        f"oidc acme/api --region {REGION} --issuer-url {issuer} --no-workflow"
    )
    assert cli(*repair).code == 0
    after = iam.get_role(RoleName="ghbootstrap-acme-api")["Role"]["AssumeRolePolicyDocument"]
    assert after == before
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [p["Arn"] for p in providers] == [
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/github.example.com/_services/token"
    ]
    assert cli("status", "--file", str(path)).code == 0
