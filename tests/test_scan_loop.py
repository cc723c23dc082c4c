"""The loop `scan` opens, through the installed script on the emulators: an organization of
12 repositories -> `scan --write` -> `apply` -> the pull requests merged -> `apply --finish
--yes` -> `scan` finds no key ghbootstrap made and still lists the other tool's; `audit`
is clean."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract import Contract
from tests.e2e import Stack, stack
from tests.fakes.github import FakeGitHub, Request, Response, _error
from tests.other_workflows import keys_workflow, role_workflow

pytestmark = pytest.mark.slow  # the installed script against served emulators, end to end

SETUP = """
[defaults]
region = "us-east-1"

[[repository]]
name = "acme/svc-1"
method = "keys"

[[repository]]
name = "acme/svc-2"
method = "keys"
rotation_schedule = "17 4 * * 1"

[[repository]]
name = "acme/svc-3"
method = "keys"
environments = ["prod"]

[[repository]]
name = "acme/svc-4"
method = "keys"
user_name = "ci-svc-4"
workflow = "none"

[[repository]]
name = "acme/svc-5"
method = "keys"
workflow = "none"

[[repository]]
name = "acme/web-1"
"""
OURS = [f"acme/svc-{n}" for n in range(1, 6)]
OTHERS = ["acme/legacy-1", "acme/legacy-2", "acme/legacy-3"]


@pytest.fixture
def running(contract: Contract) -> Iterator[Stack]:
    fake = FakeGitHub()
    fake.observers.append(contract.observe)
    with stack(fake) as served:
        yield served


def open_pulls(fake: FakeGitHub, name: str) -> list[int]:
    return [p.number for p in fake.repo(name).pulls if p.state == "open"]


def test_scan_write_apply_merge_finish_scan(running: Stack, tmp_path: Path) -> None:
    fake = running.github
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    for name in [*OURS, *OTHERS, "acme/web-1", "acme/web-2", "acme/docs", "acme/vault"]:
        fake.add_repo(name)
    assert len(fake.repos) == 12

    # Keys ghbootstrap made (five ways), and one OIDC setup: their pull requests merged.
    (tmp_path / "setup.toml").write_text(SETUP)
    made = running.run("apply", "setup.toml", cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    for name in [*OURS, "acme/web-1"]:
        for number in open_pulls(fake, name):
            fake.merge(name, number)
    # Another tool's keys: an IAM user of its own, secrets in three kinds of places.
    iam = running.client("iam")
    iam.create_user(UserName="deploy-bot")
    other_key = iam.create_access_key(UserName="deploy-bot")["AccessKey"]["AccessKeyId"]
    fake.put_secret("acme/legacy-1", "DEPLOY_AWS_ACCESS_KEY_ID", other_key)
    fake.put_secret("acme/legacy-1", "DEPLOY_AWS_SECRET_ACCESS_KEY", "not-shown")
    fake.environment("acme/legacy-2", "live")
    fake.put_secret("acme/legacy-2", "DEPLOY_AWS_ACCESS_KEY_ID", other_key, "live")
    fake.put_secret("acme/legacy-2", "DEPLOY_AWS_SECRET_ACCESS_KEY", "not-shown", "live")
    for name in ("DEPLOY_AWS_ACCESS_KEY_ID", "DEPLOY_AWS_SECRET_ACCESS_KEY"):
        fake.put_org_secret("acme", name, visibility="selected", repositories=("acme/legacy-3",))
    for name in OTHERS:
        fake.repo(name).commit("main", {".github/workflows/deploy.yml": keys_workflow("DEPLOY_")})
    fake.repo("acme/web-2").commit(
        "main",
        {".github/workflows/push.yml": role_workflow("arn:aws:iam::123456789012:role/web-2")},
    )

    def vault(request: Request) -> Response | None:
        if request.path.startswith("/repos/acme/vault/actions/secrets"):
            return _error(403, "Resource not accessible by personal access token")
        return None

    fake.faults.append(vault)

    # scan --write: the file, and the command that runs it.
    scanned = running.run("scan", "acme", "--write", "retire.toml", cwd=tmp_path, **cache)
    assert scanned.returncode == 3, scanned.stderr
    assert scanned.stdout.endswith(
        "12 repositories: 8 hold long-lived AWS keys (5 made by ghbootstrap), 2 use a role, "
        "1 unreadable\n"
    )
    assert "not-shown" not in scanned.stdout
    [apply] = [
        line.split("next: ", 1)[1] for line in scanned.stdout.splitlines() if "next: " in line
    ]
    assert apply == f"ghbootstrap apply retire.toml --github-api-url {running.github_url}"
    written = (tmp_path / "retire.toml").read_text()
    assert written.count('method = "migrate"') == 5
    for name in OTHERS:
        assert f"# {name}: AWS key secrets DEPLOY_AWS_ACCESS_KEY_ID" in written

    # apply: each setup's role and pull request; CI keeps its key meanwhile.
    applied = running.run(*shlex.split(apply)[1:], cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert applied.stdout.endswith("5 repositories: 5 changed.\n")
    assert fake.secret("acme/svc-3", "AWS_ACCESS_KEY_ID", "prod") is not None
    early = running.run("apply", "--finish", "retire.toml", "--yes", cwd=tmp_path)
    assert early.returncode == 1
    assert early.stdout.endswith("5 repositories: 5 failed.\n")

    for name in OURS:
        [number] = open_pulls(fake, name)
        fake.merge(name, number)
    finished = running.run("apply", "--finish", "retire.toml", "--yes", cwd=tmp_path)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert finished.stdout.endswith("5 repositories: 5 changed.\n")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["deploy-bot"]

    # scan again: no key ghbootstrap made; the other tool's are still there, untouched.
    again = running.run("scan", "acme", "--json", cwd=tmp_path, **cache)
    assert again.returncode == 3, again.stderr
    result = json.loads(again.stdout)
    verdicts = {row["name"]: row["verdict"] for row in result["repositories"]}
    assert verdicts == {
        **dict.fromkeys(OURS, "oidc"),
        **dict.fromkeys(OTHERS, "keys-other"),
        "acme/web-1": "oidc",
        "acme/web-2": "oidc",
        "acme/docs": "none",
        "acme/vault": "unreadable",
    }
    summary = result["summary"]
    assert (summary["keys"], summary["keys_other"], summary["long_lived"]) == (0, 3, 3)
    assert [k["id"] for k in summary["unmatched_keys"]] == [other_key]
    audit = running.run("audit", "--json")
    assert audit.returncode == 0, audit.stdout
    assert json.loads(audit.stdout) == {"findings": []}
