"""Faults at every step: for `oidc`, `keys` and `rotate`, fail the Nth AWS call and the Nth
GitHub call, for every N the flow makes, through the real entry point. The failed run must
exit non-zero and leave no orphan key, GitHub holding a matching pair of an active key,
never more than two keys, and nothing secret printed. A re-run without faults must then
produce exactly the state a clean run produces.

Each fault (flow, side, N) is its own test item, so that they run in parallel. Collecting
them runs nothing: CALLS records how many calls a clean run of each flow makes, and
test_a_clean_run_makes_the_recorded_calls fails, naming the new numbers, as soon as a flow
makes more or fewer (a case past the end fails too: its fault never fires).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
import responses
from moto import mock_aws

from ghbootstrap import cli as cli_module
from ghbootstrap.aws.session import Aws, connect
from ghbootstrap.documents import canonical
from ghbootstrap.keyrecord import KeyRecord, environment_of
from tests.checkouts import git_checkout
from tests.conftest import FAULTS_SURVIVED, REGION, moto_secret
from tests.contract import Contract
from tests.fakes.github import FakeGitHub
from tests.fakes.serve import install
from tests.faults import AwsFaults, fail_github

pytestmark = pytest.mark.slow  # a fresh world, a failing run and a re-run for every fault

REPO = "Octo-Org/Hello-World"
TYPED = "octo-org/hello-world"
USER = "ghbootstrap-octo-org-hello-world"


@dataclass
class World:
    """A fresh AWS (moto), GitHub (fake), work directory and output capture."""

    aws: Aws
    github: FakeGitHub
    faults: AwsFaults
    work: Path
    secrets: list[str]
    capsys: pytest.CaptureFixture[str]

    def run(self, *args: str) -> tuple[int, str]:
        from ghbootstrap.cli import main

        self.capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main(list(args))
        out, err = self.capsys.readouterr()
        return int(done.value.code or 0), out + err


Worlds = Callable[..., Iterator[World]]


@pytest.fixture
def worlds(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    contract: Contract,
) -> Worlds:
    """Each call makes a new, isolated world; the CLI is pointed at it. Its GitHub requests
    are checked by the test's contract, or by the one given."""
    counter = [0]

    def make(checker: Contract = contract) -> Iterator[World]:
        counter[0] += 1
        work = tmp_path / f"world-{counter[0]}"
        monkeypatch.chdir(git_checkout(work, REPO))
        with mock_aws(), responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            fake = FakeGitHub()
            fake.add_repo(REPO)
            fake.observers.append(checker.observe)
            install(fake, rsps)
            monkeypatch.setenv("GITHUB_TOKEN", fake.token)
            aws = connect(None, REGION)
            faults = AwsFaults(aws)
            secrets: list[str] = []

            def remember(parsed: dict[str, Any], **_: Any) -> None:
                secrets.append(parsed["AccessKey"]["SecretAccessKey"])

            aws.session.events.register("after-call.iam.CreateAccessKey", remember)
            original_sts_as = Aws.sts_as

            def sts_as(self: Aws, key_id: str, secret: Any) -> Any:
                client = original_sts_as(self, key_id, secret)
                client.raw.meta.events.register_first("before-call", faults._before_call)
                return client

            monkeypatch.setattr(Aws, "sts_as", sts_as)
            monkeypatch.setattr(cli_module, "_aws", lambda profile, region: aws)
            yield World(aws, fake, faults, work, secrets, capsys)

    return make


KEYS_MERGED = [["keys", TYPED, "--rotation-schedule", "0 4 * * 1", "--open-pr"], 1]
MIGRATED = [*KEYS_MERGED, ["migrate", TYPED, "--open-pr"], 2]

FLOWS: dict[str, tuple[list[str], list[list[str] | int]]] = {
    # name: (the command under test, what must run before it: commands, and the numbers
    # of pull requests merged in between)
    "oidc": (["oidc", TYPED, "--environment", "prod"], []),
    "keys": (["keys", TYPED, "--rotation-schedule", "0 4 * * 1"], []),
    "rotate": (["rotate", TYPED], [["keys", TYPED]]),
    "keys-open-pr": (["keys", TYPED, "--rotation-schedule", "0 4 * * 1", "--open-pr"], []),
    "migrate-open-pr": (["migrate", TYPED, "--open-pr"], KEYS_MERGED),
    "migrate-finish": (["migrate", TYPED, "--finish", "--yes"], MIGRATED),
}


def prepare(world: World, before: list[list[str] | int]) -> None:
    for step in before:
        if isinstance(step, int):
            world.github.merge(REPO, step)
        else:
            code, printed = world.run(*step)
            assert code == 0, printed


def snapshot(world: World) -> dict[str, Any]:
    """All state a run leaves, with key ids replaced by their role in the record."""
    session = boto3.Session("testing", "testing", region_name=REGION)
    iam, ecr = session.client("iam"), session.client("ecr")
    state: dict[str, Any] = {"roles": {}, "policies": {}, "users": {}, "ecr": {}}
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        state["roles"][name] = (canonical(trust), sorted(a["PolicyArn"] for a in attached))
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        arn = policy["Arn"]
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        default = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        state["policies"][policy["PolicyName"]] = (
            canonical(default["PolicyVersion"]["Document"]),
            len(versions),
        )
    state["providers"] = [
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"])["ClientIDList"]
        for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    ]
    for user in iam.list_users()["Users"]:
        name = user["UserName"]
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=name)["Tags"]}
        record = KeyRecord.from_tags(tags)
        roles = {record.held: "held", record.retired: "retired", record.pending: "pending"}
        keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        state["users"][name] = {
            "record": {k: roles.get(v, v) for k, v in proven(world, record).to_tags().items() if k},
            "keys": sorted((roles.get(k["AccessKeyId"], "?"), k["Status"]) for k in keys),
            "inline": iam.list_user_policies(UserName=name)["PolicyNames"],
            "attached": [
                a["PolicyName"]
                for a in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
            ],
        }
    for repo in ecr.describe_repositories()["repositories"]:
        name = repo["repositoryName"]
        lifecycle = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
        state["ecr"][name] = (repo["imageTagMutability"], json.loads(lifecycle))
    github = world.github.repo(REPO)
    scopes = {"repository": github.scope} | {
        f"environment {e.name}": e.scope for e in github.environments.values()
    }
    state["github"] = {
        label: (
            {k: v["value"] for k, v in scope.variables.items()},
            sorted(scope.secrets),
            github_pair_is_valid(world, scope.plaintext),
        )
        for label, scope in scopes.items()
    }
    state["branches"] = {
        branch: {path: data.decode() for path, data in github.branch_files(branch).items()}
        for branch in sorted(github.branches)
    }
    state["pulls"] = [(p.number, p.head, p.base, p.state) for p in github.pulls]
    state["files"] = {
        str(p.relative_to(world.work)): p.read_text()
        for p in sorted(world.work.rglob("*"))
        if p.is_file()
    }
    return state


def proven(world: World, record: KeyRecord) -> KeyRecord:
    """The record with its `updated_at` stamps replaced by whether GitHub still shows them
    (their seconds differ between worlds; whether they prove authorship must not)."""
    github = world.github.repo(REPO)
    environment = environment_of(record.scope)
    scope = github.scope if environment is None else github.environments[environment.lower()].scope

    def check(name: str, stamp: str) -> str:
        found = scope.secrets.get(name, {}).get("updated_at")
        return "" if not stamp else ("matches GitHub" if stamp == found else "differs")

    return replace(
        record,
        id_written=check("AWS_ACCESS_KEY_ID", record.id_written),
        secret_written=check("AWS_SECRET_ACCESS_KEY", record.secret_written),
    )


def github_pair_is_valid(world: World, plaintext: dict[str, str]) -> bool | None:
    key_id = plaintext.get("AWS_ACCESS_KEY_ID")
    if key_id is None:
        return None
    return plaintext.get("AWS_SECRET_ACCESS_KEY") == moto_secret(USER, key_id)


def assert_safe_after_failure(world: World, printed: str) -> None:
    iam = world.aws.iam.raw
    try:
        keys = iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=USER)["Tags"]}
    except iam.exceptions.NoSuchEntityException:
        keys, tags = [], {}
    assert len(keys) <= 2
    record = KeyRecord.from_tags(tags)
    scope = world.github.repo(REPO).scope.plaintext
    held_by_github = scope.get("AWS_ACCESS_KEY_ID")
    active = {k["AccessKeyId"] for k in keys if k["Status"] == "Active"}
    recorded = {record.held, record.retired, record.pending} - {""}
    orphans = active - recorded - {held_by_github}
    assert orphans == set(), f"orphan keys {orphans}"
    if held_by_github is not None:
        assert held_by_github in active, "GitHub names a key that does not work"
        assert scope.get("AWS_SECRET_ACCESS_KEY") == moto_secret(USER, held_by_github)
    for secret in world.secrets:
        assert secret not in printed
    assert world.github.token not in printed


def calls(world: World, args: list[str]) -> tuple[int, int]:
    """How many AWS and GitHub calls a clean run of `args` makes."""
    aws_before, github_before = world.faults.seen, len(world.github.requests)
    code, printed = world.run(*args)
    assert code == 0, printed
    return world.faults.seen - aws_before, len(world.github.requests) - github_before


# The AWS and GitHub calls a clean run of each flow makes: one fault case for each call.
CALLS: dict[str, tuple[int, int]] = {
    "keys": (19, 12),
    "keys-open-pr": (19, 20),
    "migrate-finish": (14, 11),
    "migrate-open-pr": (16, 18),
    "oidc": (13, 16),
    "rotate": (10, 8),
}

# The state a clean run of each flow leaves, made once a process (a pytest-xdist worker).
REFERENCES: dict[str, dict[str, Any]] = {}


def clean_run(flow: str, make: Worlds, *checker: Contract) -> tuple[int, int]:
    """Run the flow in a fresh world, keep the state it leaves, return its calls."""
    command, before = FLOWS[flow]
    clean = make(*checker)
    world = next(clean)
    prepare(world, before)
    counted = calls(world, command)
    REFERENCES[flow] = snapshot(world)
    clean.close()
    return counted


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_a_clean_run_makes_the_recorded_calls(flow: str, worlds: Worlds) -> None:
    aws_calls, github_calls = clean_run(flow, worlds)
    assert aws_calls > 5
    assert github_calls > 3
    assert (aws_calls, github_calls) == CALLS[flow], (
        f"{flow} now makes {aws_calls} AWS and {github_calls} GitHub calls: "
        f'set CALLS["{flow}"] = ({aws_calls}, {github_calls}) so that each call has its case'
    )


def reference(flow: str, worlds: Worlds) -> dict[str, Any]:
    """What a clean run of `flow` leaves: the test above's run when this process made it,
    else a run of its own, its GitHub requests checked against the contract but not
    counted (the test above counts them once)."""
    if flow not in REFERENCES:
        checker = Contract()
        assert clean_run(flow, worlds, checker) == CALLS[flow]
        assert checker.violations == [], "requests or answers GitHub's API description rejects"
    return REFERENCES[flow]


CASES = [
    pytest.param(flow, side, n, id=f"{flow}-{side}-{n}")
    for flow in sorted(FLOWS)
    for side, count in zip(("aws", "github"), CALLS[flow], strict=True)
    for n in range(1, count + 1)
]


@pytest.mark.parametrize(("flow", "side", "n"), CASES)
def test_every_fault_leaves_a_state_a_rerun_repairs(
    flow: str, side: str, n: int, worlds: Worlds
) -> None:
    command, before = FLOWS[flow]
    expected = reference(flow, worlds)
    count = CALLS[flow][("aws", "github").index(side)]

    made = worlds()
    world = next(made)
    prepare(world, before)
    if side == "aws":
        start = world.faults.seen
        world.faults.fail(lambda name, seen, at=start + n: seen == at)
    else:
        base = len(world.github.requests)
        handled = world.github.requests
        fail_github(world.github, lambda r, at=base + n - 1, seen=handled: len(seen) == at)
    code, printed = world.run(*command)
    where = f"{flow}: {side} call {n} of {count}"
    assert code != 0, f"{where}: the run did not fail"
    assert printed.startswith("error: "), f"{where}: {printed}"
    assert_safe_after_failure(world, printed)

    world.faults.clear()
    world.github.faults.clear()
    code, printed = world.run(*command)
    assert code == 0, f"{where}: the re-run failed: {printed}"
    assert snapshot(world) == expected, f"{where}: the re-run did not converge"
    FAULTS_SURVIVED[side] += 1
    made.close()
