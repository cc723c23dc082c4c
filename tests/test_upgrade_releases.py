"""Every earlier release's setups upgrade cleanly, tested by running that release itself.

Each sdist in tests/data/releases/ (built from its tag by tests/releases.py) is installed
into its own virtualenv once per session. That release sets up on the emulators (moto's
server and the served GitHub fake, whose clock follows the wall clock here, as moto's
does, so GitHub's `updated_at` and IAM's CreateDate can be compared); then the current
code, run as the installed script, carries the setup on without --force: the same
command again (files upgraded, no new key), status, rotate, the rotation workflow as
GitHub runs it, status, migrate's two phases, destroy; nothing may be left behind.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ghbootstrap.delivery import unedited
from ghbootstrap.keyrecord import KeyRecord
from ghbootstrap.workflow import intact
from tests.checkouts import git_checkout
from tests.dist_check import install
from tests.e2e import Stack
from tests.fakes.github import Clock
from tests.releases import RELEASES
from tests.test_e2e import e2e, served  # noqa: F401 - the same emulators, fresh per test
from tests.test_pull_request import OIDC_0_2_0
from tests.test_pull_request import TITLE as PR_TITLE
from tests.test_rotation_workflow import run_rotation_workflow

pytestmark = pytest.mark.slow  # earlier releases installed and run against served emulators

SDISTS = sorted(RELEASES.glob("ghbootstrap-*.tar.gz"))
REPO = "Octo-Org/Hello-World"
TYPED = "octo-org/hello-world"
USER = "ghbootstrap-octo-org-hello-world"
BUILD = ".github/workflows/ecr-build-push.yml"
ROTATION = ".github/workflows/rotate-aws-keys.yml"
UPGRADED = ("update", "an earlier ghbootstrap rendering: upgraded")
SECRETS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
TOKEN = "GHBOOTSTRAP_GITHUB_TOKEN"


def version(sdist: Path) -> str:
    return sdist.name.removesuffix(".tar.gz").split("-")[1]


# Under pytest-xdist (`--dist loadgroup`) a release's tests share a worker, which installs
# that release once.
RELEASES_RUN = [
    pytest.param(s, id=version(s), marks=pytest.mark.xdist_group(f"release-{version(s)}"))
    for s in SDISTS
]


def test_every_release_tag_has_its_sdist() -> None:
    """Every release is tagged, and its sdist kept here, so every later one is tested from
    it (a clone without tags still checks the releases known to have been made)."""
    tags = subprocess.run(
        ["git", "-C", str(RELEASES), "tag", "--list", "v*"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    kept = {f"v{version(s)}" for s in SDISTS}
    assert kept >= {"v0.1.0", "v0.2.0", *tags}


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """The `ghbootstrap` script of a release's sdist, installed once per session."""
    scripts: dict[Path, Path] = {}

    def script(sdist: Path) -> Path:
        if sdist not in scripts:
            scripts[sdist] = install(sdist, tmp_path_factory.mktemp(f"venv-{version(sdist)}"))
        return scripts[sdist]

    return script


@pytest.fixture
def running(e2e: Stack) -> Iterator[Stack]:  # noqa: F811 - the fixture imported above
    e2e.github.clock.follow_wall()
    yield e2e
    e2e.github.clock = Clock()


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def changes(out: str) -> dict[tuple[str, str], tuple[str, str | None]]:
    """What a --json run did, by (kind of resource, name)."""
    return {
        (r["resource"], r["name"]): (r["action"], r.get("detail"))
        for r in json.loads(out)["resources"]
    }


def access_keys(running: Stack) -> dict[str, str]:
    found = running.client("iam").list_access_keys(UserName=USER)["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in found}


def key_record(running: Stack) -> KeyRecord:
    tags = running.client("iam").list_user_tags(UserName=USER)["Tags"]
    return KeyRecord.from_tags({t["Key"]: t["Value"] for t in tags})


def nothing_left(running: Stack, environments: list[str]) -> None:
    iam, ecr = running.client("iam"), running.client("ecr")
    assert iam.list_roles()["Roles"] == []
    assert iam.list_users()["Users"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert ecr.describe_repositories()["repositories"] == []
    for environment in [None, *environments]:
        assert running.github.variables(REPO, environment) == {}
        scope = running.github.scope(REPO, environment)
        assert set(scope.secrets) <= {TOKEN}


@pytest.mark.parametrize("environment", [None, "prod (eu)"], ids=["repository", "environment"])
@pytest.mark.parametrize("sdist", RELEASES_RUN)
def test_a_key_setup_made_by_an_earlier_release_is_carried_through_and_removed(
    running: Stack,
    installed: Callable[[Path], Path],
    tmp_path: Path,
    sdist: Path,
    environment: str | None,
) -> None:
    checkout = git_checkout(tmp_path / "checkout", REPO, "127.0.0.1")
    build, rotation = checkout / BUILD, checkout / ROTATION
    scope = ["--environment", environment] if environment else []
    setup = ["keys", TYPED, "--rotation-schedule", "17 4 * * 1", *scope]
    ok(replace(running, script=installed(sdist)).run(*setup, cwd=checkout))
    held = running.github.secret(REPO, SECRETS[0], environment)
    assert access_keys(running) == {held: "Active"}

    # The same command with the current code, without --force: files upgraded, no new key.
    again = changes(ok(running.run(*setup, "--json", cwd=checkout)))
    if version(sdist) == "0.1.0":
        assert again["workflow file", str(build)] == UPGRADED
        assert again["workflow file", str(rotation)] == UPGRADED
        assert again["key record", USER][0] == "update"  # 0.1.0's record, proven and kept
    assert intact(build.read_text())
    assert intact(rotation.read_text())
    assert access_keys(running) == {held: "Active"}
    assert key_record(running).held == held
    assert json.loads(ok(running.run(*setup, "--json", cwd=checkout)))["changed"] is False
    ok(running.run("status", TYPED, *scope))

    ok(running.run("rotate", TYPED, *scope))
    rotated = running.github.secret(REPO, SECRETS[0], environment)
    assert access_keys(running) == {held: "Inactive", rotated: "Active"}

    running.github.put_secret(REPO, TOKEN, running.github.token)
    runs = run_rotation_workflow(running, rotation, tmp_path / "runner")
    assert runs[-1].result is not None
    assert runs[-1].result.returncode == 0, runs[-1].result.stderr
    assert runs[-1].env["AWS_ACCESS_KEY_ID"] == rotated  # CI signed in with the held key
    newest = running.github.secret(REPO, SECRETS[0], environment)
    assert access_keys(running) == {rotated: "Inactive", newest: "Active"}

    ok(running.run("migrate", TYPED, cwd=checkout))
    assert not rotation.exists()
    repo = running.github.repo(REPO)
    repo.commit(repo.default_branch, {BUILD: build.read_bytes()})  # pushed, and it ran
    ok(running.run("migrate", TYPED, "--finish", "--yes"))
    assert {n: running.github.secret(REPO, n, environment) for n in SECRETS} == dict.fromkeys(
        SECRETS
    )
    ok(running.run("destroy", TYPED, "--yes"))
    nothing_left(running, [environment] if environment else [])


@pytest.mark.parametrize("sdist", RELEASES_RUN)
def test_an_oidc_setup_made_by_an_earlier_release_is_upgraded_and_removed(
    running: Stack, installed: Callable[[Path], Path], tmp_path: Path, sdist: Path
) -> None:
    checkout = git_checkout(tmp_path / "checkout", REPO, "127.0.0.1")
    build = checkout / BUILD
    scopes = ["--branch", "release", "--branch", "main", "--tag", "v*"]
    ok(replace(running, script=installed(sdist)).run("oidc", TYPED, *scopes, cwd=checkout))

    # The same scopes, in another order: nothing but the file and the role's record changes.
    again = changes(
        ok(running.run("oidc", TYPED, *scopes[2:], *scopes[:2], "--json", cwd=checkout))
    )
    if version(sdist) == "0.1.0":
        assert again["workflow file", str(build)] == UPGRADED
    assert intact(build.read_text())
    assert (
        json.loads(ok(running.run("oidc", TYPED, *scopes, "--json", cwd=checkout)))["changed"]
        is False
    )
    ok(running.run("status", TYPED))

    ok(running.run("destroy", TYPED, "--yes"))
    nothing_left(running, [])


V020 = [p for p in RELEASES_RUN if p.id == "0.2.0"]


@pytest.mark.parametrize("sdist", V020)
def test_a_pull_request_0_2_0_opened_is_carried_on_and_an_edited_one_kept(
    running: Stack, installed: Callable[[Path], Path], tmp_path: Path, sdist: Path
) -> None:
    """0.2.0 opens the pull request itself: its description is the golden text the fast
    tests use, and the current code rewrites it (with the marker) when the scopes change;
    once someone edits it, a later run keeps it."""
    ok(replace(running, script=installed(sdist)).run("oidc", TYPED, "--open-pr", cwd=tmp_path))
    [pull] = running.github.repo(REPO).pulls
    assert (pull.title, pull.body) == (PR_TITLE, OIDC_0_2_0)

    ok(running.run("oidc", TYPED, "--open-pr", "--tag", "v*", cwd=tmp_path))
    assert "`repo:Octo-Org/Hello-World:ref:refs/tags/v*`" in pull.body
    assert unedited(pull.title, pull.body)

    pull.body += "\n\nRita: merge after the release."
    edited = pull.body
    out = ok(running.run("oidc", TYPED, "--open-pr", "--branch", "main", cwd=tmp_path))
    assert "title and description kept: changed by hand" in out
    assert pull.body == edited
    ok(running.run("destroy", TYPED, "--yes"))
