"""GitHub's switch to immutable subjects, and a repository re-created under its name, on the
emulators through the real entry point: who `explain` says may assume the role (the
evaluator on the trust in moto, with the claims GitHub issues for the repository as the
fake describes it), what `status` reports, and what each printed command does."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.conftest import REGION, CliResult
from tests.fakes.github import FakeGitHub, Repo

Cli = Callable[..., CliResult]
REPO = "acme/imm"
ROLE = "ghbootstrap-acme-imm"
HOST = "token.actions.githubusercontent.com"
SETUP = ("oidc", REPO, "--branch", "main", "--tag", "v*", "--no-workflow")
JOBS = (("--branch", "main"), ("--tag", "v1.2.0"))


@pytest.fixture
def imm(fake_github: FakeGitHub) -> Repo:
    return fake_github.add_repo(REPO)


def trust() -> dict[str, Any]:
    role = boto3.client("iam", region_name=REGION).get_role(RoleName=ROLE)["Role"]
    document: dict[str, Any] = role["AssumeRolePolicyDocument"]
    return document


def subjects() -> list[str]:
    return sorted(s for st in trust()["Statement"] for s in _subs(st))


def _subs(statement: dict[str, Any]) -> list[str]:
    return [
        value
        for block in statement["Condition"].values()
        for key, values in block.items()
        if key == f"{HOST}:sub"
        for value in (values if isinstance(values, list) else [values])
    ]


def explain(cli: Cli, *job: str) -> tuple[int, dict[str, Any]]:
    result = cli("explain", REPO, *job, "--json")
    return result.code, json.loads(result.out)


def admitted(cli: Cli) -> list[tuple[int, str]]:
    """Each job's exit code and sub, as `explain` derives them from GitHub's settings now."""
    return [(code, answer["sub"]) for code, answer in (explain(cli, *job) for job in JOBS)]


def switch(repo: Repo) -> None:
    """What GitHub does to a repository (on opt-in, rename or transfer)."""
    repo.oidc = {"use_default": True, "use_immutable_subject": True}


def test_the_switch_refuses_no_job_and_the_next_run_drops_the_name_form(
    cli: Cli, moto: None, fake_github: FakeGitHub, imm: Repo
) -> None:
    assert cli(*SETUP).code == 0
    name, ids = "repo:acme/imm", f"repo:acme@{imm.owner_id}/imm@{imm.id}"
    assert subjects() == [
        f"{name}:ref:refs/heads/main",
        f"{name}:ref:refs/tags/v*",
        f"{ids}:ref:refs/heads/main",
        f"{ids}:ref:refs/tags/v*",
    ]
    assert admitted(cli) == [
        (0, f"{name}:ref:refs/heads/main"),
        (0, f"{name}:ref:refs/tags/v1.2.0"),
    ]

    switch(imm)
    assert admitted(cli) == [(0, f"{ids}:ref:refs/heads/main"), (0, f"{ids}:ref:refs/tags/v1.2.0")]
    status = cli("status", REPO)
    assert status.code == 0, status.out
    role = next(line for line in status.out.splitlines() if "IAM role" in line)
    assert role.endswith(
        f"pinned to repository id {imm.id}; the repository sends immutable subjects now: the "
        "next `oidc` run drops the name form)"
    )

    again = cli(*SETUP, "--json")
    assert again.code == 0, again.err
    changes = {c["resource"]: c for c in json.loads(again.out)["resources"]}
    assert (changes["IAM role"]["action"], changes["IAM role"]["detail"]) == (
        "update",
        "trust policy differs: drops the name form: the repository uses immutable subjects now",
    )
    assert subjects() == [f"{ids}:ref:refs/heads/main", f"{ids}:ref:refs/tags/v*"]
    assert admitted(cli) == [(0, f"{ids}:ref:refs/heads/main"), (0, f"{ids}:ref:refs/tags/v1.2.0")]
    assert cli("status", REPO).code == 0
    assert json.loads(cli(*SETUP, "--json").out)["changed"] is False


def test_a_setup_made_before_the_pin_is_drift_after_the_switch_and_its_repair_runs(
    cli: Cli, moto: None, fake_github: FakeGitHub, imm: Repo
) -> None:
    """0.2.0 wrote the name form alone, unpinned, and recorded it as its own: after the
    switch every job is refused. status says so, and its repair, run as printed, admits
    them again."""
    assert cli(*SETUP).code == 0
    iam = boto3.client("iam", region_name=REGION)
    old = trust()
    for statement in old["Statement"]:
        condition = statement["Condition"]
        del condition["StringEquals"][f"{HOST}:repository_id"]
        for block in condition.values():
            if f"{HOST}:sub" in block:
                block[f"{HOST}:sub"] = [s for s in block[f"{HOST}:sub"] if "@" not in s]
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(old))
    from ghbootstrap.documents import fingerprint  # 0.2.0 recorded its own trust's

    iam.tag_role(RoleName=ROLE, Tags=[{"Key": "ghbootstrap:trust", "Value": fingerprint(old)}])
    before = cli("status", REPO)
    assert before.code == 3
    assert (
        "IAM role ghbootstrap-acme-imm: its trust is not pinned: it admits acme/imm by name "
        "with no repository_id pin" in before.out
    )

    switch(imm)
    assert [code for code, _ in admitted(cli)] == [3, 3]
    status = cli("status", REPO, "--json")
    assert status.code == 3
    role = next(c for c in json.loads(status.out)["checks"] if c["resource"] == "IAM role")
    ids = f"repo:acme@{imm.owner_id}/imm@{imm.id}"
    assert role["detail"] == (
        f"its trust does not admit {ids}:ref:refs/heads/main, {ids}:ref:refs/tags/v*, the "
        "subjects GitHub sends for its setup now: the repository has switched to immutable "
        "subjects"
    )
    fix = f"ghbootstrap oidc {REPO} --region {REGION} --branch main --tag 'v*' --no-workflow"
    assert role["fix"] == fix
    assert cli(*shlex.split(fix)[1:]).code == 0
    assert [code for code, _ in admitted(cli)] == [0, 0]
    assert cli("status", REPO).code == 0


def test_a_re_created_repository_is_refused_and_nothing_printed_re_admits_it(
    cli: Cli, moto: None, fake_github: FakeGitHub, imm: Repo
) -> None:
    assert cli(*SETUP).code == 0
    del fake_github.repos[REPO]
    stranger = fake_github.add_repo(REPO)  # same name, a new id

    code, answer = explain(cli, "--branch", "main")
    assert (code, answer["admitted"], answer["fix"]) == (3, False, None)
    assert answer["sub"] == "repo:acme/imm:ref:refs/heads/main"  # the name matches
    assert answer["reason"] == (
        f"the token's repository_id is {stranger.id}, and the trust admits repository id "
        f"{imm.id} alone: this is another repository with the same name (the one the role was "
        "made for was deleted and re-created, or transferred); no command re-admits it: check "
        "who owns the repository now, and only if the role is meant for it, run its setup "
        "again with --force"
    )

    status = cli("status", REPO, "--json")
    assert status.code == 3
    report = json.loads(status.out)
    role = next(c for c in report["checks"] if c["resource"] == "IAM role")
    assert (role["state"], role["fix"]) == ("drift", "")
    assert role["detail"] == (
        f"its trust is pinned to repository id {imm.id}, and acme/imm is repository id "
        f"{stranger.id} now: this is another repository with the same name (the one the role "
        "was made for was deleted and re-created, or transferred); check who owns acme/imm "
        "now, and only if the role is meant for it, run its setup again with --force"
    )
    assert [c["fix"] for c in report["checks"]] == [""] * len(report["checks"])
    assert "ghbootstrap oidc" not in status.out
    text = cli("status", REPO)
    assert "ghbootstrap oidc" not in text.out + text.err
    assert "run `" not in text.out
    assert cli(*SETUP).code == 1  # the setup command refuses too, writing nothing
    assert explain(cli, "--branch", "main")[0] == 3
