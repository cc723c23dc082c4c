"""The rotation workflow `keys --rotation-schedule` writes, run the way GitHub runs it.

`keys` runs as the installed script against moto's server and the served GitHub fake. The
workflow it wrote is then parsed and run by tests/runner.py: `${{ secrets.* }}` and
`${{ vars.* }}` come from the fake (the job's environment first, then the repository),
each `run:` step runs with bash in a clean environment. Two things stand in for a
runner's: the step that installs ghbootstrap from PyPI is checked to be exactly
`python -m pip install ghbootstrap==VERSION` and replaced by putting this checkout's
installed `ghbootstrap` (the same version) on PATH; and the runner's environment carries
AWS_ENDPOINT_URL and GITHUB_API_URL (a runner sets GITHUB_API_URL itself) pointing at the
emulators. Nothing else: no AWS_DEFAULT_REGION, no credentials but the step's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ghbootstrap import __version__
from ghbootstrap.keyrecord import KeyRecord
from tests.checkouts import git_checkout
from tests.conftest import moto_secret
from tests.e2e import SCRIPT, Stack
from tests.fakes.github import FakeGitHub
from tests.runner import Contexts, StepRun, run_job
from tests.test_e2e import e2e, served  # noqa: F401 - the same emulators, fresh per test
from tests.workflow_checks import schema_check, severe, zizmor_findings

pytestmark = pytest.mark.slow  # the written workflow run step by step, the installed script in it

REPO = "Octo-Org/Hello-World"
USER = "ghbootstrap-octo-org-hello-world"
ENVIRONMENTS = [None, "prod #1", "prod: eu", "it's ${{ github.token }} & $(id)"]


def contexts_of(fake: FakeGitHub, environment: str | None) -> Contexts:
    """What a job in `environment` sees: environment values over repository ones."""
    repo = fake.repo(REPO)
    scopes = [repo.scope]
    if environment is not None and environment.lower() in repo.environments:
        scopes.append(repo.environments[environment.lower()].scope)
    secrets: dict[str, str] = {}
    variables: dict[str, str] = {}
    for scope in scopes:
        secrets.update(scope.plaintext)
        variables.update({name: v["value"] for name, v in scope.variables.items()})
    return {"secrets": secrets, "vars": variables}


def held_pair(fake: FakeGitHub, environment: str | None) -> tuple[str | None, str | None]:
    return (
        fake.secret(REPO, "AWS_ACCESS_KEY_ID", environment),
        fake.secret(REPO, "AWS_SECRET_ACCESS_KEY", environment),
    )


def run_rotation_workflow(running: Stack, path: Path, runner: Path) -> list[StepRun]:
    """Run the rotation workflow at `path` as GitHub would, in the folder `runner`, with
    this checkout's installed `ghbootstrap` in place of the one it installs from PyPI."""
    tools = runner / "bin"
    tools.mkdir(parents=True, exist_ok=True)

    def install_locally(command: str) -> bool:
        if "pip install" not in command:
            return False
        assert command == f"python -m pip install ghbootstrap=={__version__}"
        (tools / "ghbootstrap").symlink_to(SCRIPT)
        return True

    return run_job(
        path.read_text(),
        "rotate",
        lambda env: contexts_of(running.github, env),
        {
            "PATH": f"{tools}:/usr/bin:/bin",
            "HOME": str(runner),
            "GITHUB_API_URL": running.github_url,
            "AWS_ENDPOINT_URL": running.aws_url,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        },
        runner,
        replace=install_locally,
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_written_rotation_workflow_rotates_the_key(
    e2e: Stack,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    environment: str | None,
) -> None:
    checkout = git_checkout(tmp_path / "checkout", REPO, "127.0.0.1")
    runner = tmp_path / "runner"
    runner.mkdir()
    scope = ["--environment", environment] if environment else []
    done = e2e.run(
        "keys", "octo-org/hello-world", "--rotation-schedule", "0 4 * * 1", *scope, cwd=checkout
    )
    assert done.returncode == 0, done.stderr
    old_id, old_secret = held_pair(e2e.github, environment)
    assert old_id is not None
    # the token the README asks for, as a repository secret
    e2e.github.put_secret(REPO, "GHBOOTSTRAP_GITHUB_TOKEN", e2e.github.token)

    path = checkout / ".github/workflows/rotate-aws-keys.yml"
    assert severe(zizmor_findings(path)) == []
    assert schema_check(path).returncode == 0
    runs = run_rotation_workflow(e2e, path, runner)

    assert [r.name for r in runs] == ["Install ghbootstrap", "Rotate the key"]
    rotate = runs[-1].result
    assert rotate is not None
    assert rotate.returncode == 0, rotate.stderr
    assert runs[-1].env["AWS_ACCESS_KEY_ID"] == old_id  # it ran with the key it replaced
    new_id, new_secret = held_pair(e2e.github, environment)
    assert new_id not in (None, old_id)
    assert new_secret == moto_secret(USER, str(new_id))
    assert old_secret not in rotate.stdout + rotate.stderr
    assert str(new_secret) not in rotate.stdout + rotate.stderr
    iam = e2e.client("iam")
    keys = iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    assert {k["AccessKeyId"]: k["Status"] for k in keys} == {old_id: "Inactive", new_id: "Active"}
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=USER)["Tags"]}
    assert KeyRecord.from_tags(tags).held == new_id
