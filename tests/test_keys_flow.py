"""`keys` and `rotate` in-process: moto and the GitHub fake, which decrypts what it gets."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from ghbootstrap.aws.session import Aws
from ghbootstrap.documents import self_rotation_policy
from ghbootstrap.errors import ConflictError, GhbError
from ghbootstrap.flows import key_install, keys, rotate
from ghbootstrap.github.api import GitHub
from ghbootstrap.keyrecord import KeyRecord
from ghbootstrap.report import Report
from ghbootstrap.target import Names, parse_repo
from tests.conftest import ACCOUNT, REGION, AwsCalls, moto_secret
from tests.fakes.github import FakeGitHub
from tests.faults import AwsFaults, fail_github, put_secret
from tests.test_documents import parliament

REPO = "Octo-Org/Hello-World"
REF = parse_repo("octo-org/hello-world")
NAMES = Names.resolve(REF)
USER = NAMES.user
OWNER_TAG = {"ghbootstrap:repository": "octo-org/hello-world"}


def keys_request(tmp_path: Path, **kwargs: Any) -> keys.KeysRequest:
    kwargs.setdefault("workflow_path", tmp_path / ".github/workflows/ecr-build-push.yml")
    return keys.KeysRequest(ref=REF, names=NAMES, **kwargs)


def run_keys(aws: Aws, gh: GitHub, tmp_path: Path, **kwargs: Any) -> Report:
    return keys.run(aws, gh, keys_request(tmp_path, **kwargs), dry_run=False)


def run_rotate(aws: Aws, gh: GitHub, **kwargs: Any) -> Report:
    request = rotate.RotateRequest(ref=REF, user=USER, **kwargs)
    return rotate.run(aws, gh, request, dry_run=False)


def key_states(aws: Aws) -> dict[str, str]:
    found = aws.iam.raw.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in found}


def record(aws: Aws) -> KeyRecord:
    tags = aws.iam.raw.list_user_tags(UserName=USER)["Tags"]
    return KeyRecord.from_tags({t["Key"]: t["Value"] for t in tags})


def written(fake: FakeGitHub, environment: str | None = None) -> dict[str, str]:
    """The record's proof of authorship: the `updated_at` GitHub shows for both secrets."""
    secrets = fake.scope(REPO, environment).secrets
    return {
        "id_written": secrets["AWS_ACCESS_KEY_ID"]["updated_at"],
        "secret_written": secrets["AWS_SECRET_ACCESS_KEY"]["updated_at"],
    }


def github_pair(fake: FakeGitHub, environment: str | None = None) -> tuple[str | None, str | None]:
    return (
        fake.secret(REPO, "AWS_ACCESS_KEY_ID", environment),
        fake.secret(REPO, "AWS_SECRET_ACCESS_KEY", environment),
    )


def assert_github_holds_a_working_pair(
    aws: Aws, fake: FakeGitHub, environment: str | None = None
) -> str:
    key_id, secret = github_pair(fake, environment)
    assert key_id is not None
    assert key_states(aws)[key_id] == "Active"
    assert secret == moto_secret(USER, key_id)
    return key_id


@pytest.fixture
def at_most_two_keys(aws: Aws) -> list[int]:
    """After every CreateAccessKey, count the user's keys: never more than two."""
    counts: list[int] = []

    def count(**_: Any) -> None:
        counts.append(len(aws.iam.raw.list_access_keys(UserName=USER)["AccessKeyMetadata"]))

    aws.session.events.register("after-call.iam.CreateAccessKey", count)
    return counts


def test_keys_creates_one_active_key_that_github_holds(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    report = run_keys(aws, gh, tmp_path)

    assert len(key_states(aws)) == 1
    key_id = assert_github_holds_a_working_pair(aws, fake_github)
    assert report.outputs["access_key_id"] == key_id
    assert record(aws) == KeyRecord(held=key_id, scope="repository", **written(fake_github))
    iam = aws.iam.raw
    user = iam.get_user(UserName=USER)["User"]
    assert {t["Key"]: t["Value"] for t in user["Tags"]}.items() >= OWNER_TAG.items()
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName=USER)  # never a console login
    attached = iam.list_attached_user_policies(UserName=USER)["AttachedPolicies"]
    assert [a["PolicyName"] for a in attached] == [NAMES.policy]
    assert iam.list_user_policies(UserName=USER)["PolicyNames"] == []
    assert fake_github.variables(REPO) == {
        "AWS_REGION": REGION,
        "ECR_REPOSITORY": "octo-org/hello-world",
    }
    workflow = yaml.safe_load((tmp_path / ".github/workflows/ecr-build-push.yml").read_text())
    steps = workflow["jobs"]["build-push"]["steps"]
    assert any(s.get("with", {}).get("aws-access-key-id") for s in steps)
    assert not (tmp_path / ".github/workflows/rotate-aws-keys.yml").exists()


def test_second_keys_run_creates_nothing_and_writes_nothing(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path)
    before, gh_before = len(aws_calls.names), len(fake_github.writes())
    report = run_keys(aws, gh, tmp_path)
    assert aws_calls.writes_since(before) == []
    assert fake_github.writes()[gh_before:] == []
    assert not report.changed
    assert len(key_states(aws)) == 1


def test_keys_in_an_environment(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path, environment="prod")
    assert_github_holds_a_working_pair(aws, fake_github, "prod")
    assert github_pair(fake_github) == (None, None)
    assert fake_github.variables(REPO, "prod")["AWS_REGION"] == REGION
    assert fake_github.variables(REPO) == {}
    assert record(aws).scope == "environment:prod"
    job = yaml.safe_load((tmp_path / ".github/workflows/ecr-build-push.yml").read_text())
    assert job["jobs"]["build-push"]["environment"] == "prod"


def test_failing_to_store_the_secret_deletes_the_new_key(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fired = fail_github(fake_github, put_secret("AWS_SECRET_ACCESS_KEY"))
    with pytest.raises(GhbError, match="GitHub refused to write secret AWS_SECRET_ACCESS_KEY"):
        run_keys(aws, gh, tmp_path)
    assert fired == [f"PUT /repos/{REPO}/actions/secrets/AWS_SECRET_ACCESS_KEY"]
    assert key_states(aws) == {}  # no orphan key
    assert github_pair(fake_github) == (None, None)  # the id written first was removed
    assert record(aws).pending == ""
    run_keys(aws, gh, tmp_path)  # a re-run converges
    assert_github_holds_a_working_pair(aws, fake_github)


def test_rotate_twice(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path, at_most_two_keys: list[int]
) -> None:
    run_keys(aws, gh, tmp_path)
    first = record(aws).held

    one = run_rotate(aws, gh)
    second = assert_github_holds_a_working_pair(aws, fake_github)
    assert second != first
    assert key_states(aws) == {first: "Inactive", second: "Active"}
    assert record(aws) == KeyRecord(
        held=second, retired=first, scope="repository", **written(fake_github)
    )
    assert one.outputs["access_key_id"] == second

    run_rotate(aws, gh)
    third = assert_github_holds_a_working_pair(aws, fake_github)
    assert key_states(aws) == {second: "Inactive", third: "Active"}  # first was deleted
    assert record(aws) == KeyRecord(
        held=third, retired=second, scope="repository", **written(fake_github)
    )
    assert at_most_two_keys == [1, 2, 2]


def test_keep_old_active_then_the_next_rotation_deletes_it(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path)
    first = record(aws).held
    run_rotate(aws, gh, keep_old_active=True)
    second = record(aws).held
    assert key_states(aws) == {first: "Active", second: "Active"}
    run_rotate(aws, gh)
    assert first not in key_states(aws)
    assert key_states(aws)[second] == "Inactive"
    assert_github_holds_a_working_pair(aws, fake_github)


def test_github_refusing_the_secret_mid_rotation_changes_nothing(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path)
    old = record(aws)
    pair = github_pair(fake_github)
    fail_github(fake_github, put_secret("AWS_SECRET_ACCESS_KEY"))

    with pytest.raises(GhbError, match="AWS_SECRET_ACCESS_KEY"):
        run_rotate(aws, gh)

    assert key_states(aws) == {old.held: "Active"}  # new key gone, old key active
    assert github_pair(fake_github) == pair  # the id was written back
    assert record(aws) == replace(old, id_written=written(fake_github)["id_written"])
    assert_github_holds_a_working_pair(aws, fake_github)


def test_when_even_the_restore_fails_nothing_is_deleted_and_the_next_run_repairs(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path, at_most_two_keys: list[int]
) -> None:
    run_keys(aws, gh, tmp_path)
    old = record(aws).held
    fail_github(fake_github, put_secret("AWS_SECRET_ACCESS_KEY"))
    # the id is written (new key), then the restore of the old id fails
    fail_github(fake_github, put_secret("AWS_ACCESS_KEY_ID"), skip=1)
    with pytest.raises(GhbError, match="mismatched key pair"):
        run_rotate(aws, gh)

    new = record(aws).pending
    assert key_states(aws) == {old: "Active", new: "Active"}  # nothing deleted
    assert github_pair(fake_github)[0] == new  # GitHub names the new key, still active

    fake_github.faults.clear()
    run_rotate(aws, gh)  # repairs (undoes the half-made key), then rotates
    newest = assert_github_holds_a_working_pair(aws, fake_github)
    assert new not in key_states(aws)
    assert key_states(aws) == {old: "Inactive", newest: "Active"}
    assert max(at_most_two_keys) == 2


def test_a_run_stopped_before_recording_is_finished_by_the_next(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path)
    old = record(aws).held
    faults = AwsFaults(aws)
    tag_calls = [0]

    def second_tag_user(name: str, n: int) -> bool:
        if name == "iam.TagUser":
            tag_calls[0] += 1
            # the first records "pending", the second "id stored", the third "held"
            return tag_calls[0] == 3
        return False

    faults.fail(second_tag_user)
    with pytest.raises(GhbError, match="iam:TagUser failed: ServiceFailure"):
        run_rotate(aws, gh)
    held_by_github = assert_github_holds_a_working_pair(aws, fake_github)
    assert record(aws).pending == held_by_github
    assert key_states(aws)[old] == "Active"

    faults.clear()
    keys.run(aws, gh, keys_request(tmp_path), dry_run=False)  # keys finishes it, no new key
    assert record(aws) == KeyRecord(
        held=held_by_github, retired=old, scope="repository", **written(fake_github)
    )
    assert key_states(aws) == {old: "Inactive", held_by_github: "Active"}


def test_an_unrecorded_key_stops_keys_and_rotate(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path)
    stranger = aws.iam.raw.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    before = len(aws_calls.names)
    with pytest.raises(ConflictError, match=f"has access key {stranger}, which ghbootstrap did"):
        run_rotate(aws, gh)
    with pytest.raises(ConflictError, match="someone else may use it"):
        run_keys(aws, gh, tmp_path)
    assert aws_calls.writes_since(before) == []
    assert stranger in key_states(aws)


def test_rotate_needs_a_setup_made_by_keys(aws: Aws, gh: GitHub) -> None:
    with pytest.raises(GhbError) as caught:
        run_rotate(aws, gh)
    assert str(caught.value) == (
        f"IAM user {USER} holds no key ghbootstrap installed for octo-org/hello-world: "
        "set it up first with `ghbootstrap keys octo-org/hello-world` "
        "(and the same --user-name)"
    )


def test_rotate_refuses_another_scope_than_keys_used(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path, environment="prod")
    with pytest.raises(GhbError, match="stored in GitHub's environment prod, not repository"):
        run_rotate(aws, gh)
    run_rotate(aws, gh, environment="prod")
    assert_github_holds_a_working_pair(aws, fake_github, "prod")


def test_rotation_schedule_grants_self_rotation_and_writes_the_workflow(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path, rotation_schedule="17 4 * * 1")
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{USER}"
    inline = aws.iam.raw.get_user_policy(UserName=USER, PolicyName="ghbootstrap-self-rotation")
    assert inline["PolicyDocument"] == self_rotation_policy(user_arn)
    statement = inline["PolicyDocument"]["Statement"]
    assert [s["Resource"] for s in statement] == [user_arn, user_arn]
    assert statement[1]["Condition"] == {
        "ForAllValues:StringLike": {
            "aws:TagKeys": ["ghbootstrap:key-*", "ghbootstrap:secrets-scope"]
        }
    }
    actions = [
        a
        for s in statement
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert not any(a.endswith("*") for a in actions)
    assert "iam:TagUser" in actions
    result = parliament(self_rotation_policy(user_arn))
    assert (result.returncode, result.stdout) == (0, "")
    rotation = yaml.safe_load((tmp_path / ".github/workflows/rotate-aws-keys.yml").read_text())
    assert rotation[True]["schedule"] == [{"cron": "17 4 * * 1"}]
    assert rotation["jobs"]["rotate"]["steps"][-1]["run"] == (
        f"ghbootstrap rotate {REPO} --user-name {USER} --region {REGION}"
    )


def test_a_key_that_never_works_is_deleted(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_keys(aws, gh, tmp_path)
    old = record(aws)
    pair = github_pair(fake_github)
    waits: list[float] = []
    clock = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    real_until = key_install.until
    monkeypatch.setattr(
        key_install,
        "until",
        lambda _attempt, **kw: real_until(lambda: None, clock=lambda: clock[0], sleep=sleep, **kw),
    )
    with pytest.raises(
        GhbError, match=r"authenticating with the new access key \w+ did not happen"
    ):
        run_rotate(aws, gh, propagation_timeout=20)
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 4.5]  # backoff, bounded by the timeout
    assert key_states(aws) == {old.held: "Active"}
    assert github_pair(fake_github) == pair
    assert record(aws) == old


def test_dry_run_rotate_reads_only(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path)
    run_rotate(aws, gh)
    before, gh_before = len(aws_calls.names), len(fake_github.writes())
    held = record(aws)
    report = rotate.run(aws, gh, rotate.RotateRequest(ref=REF, user=USER), dry_run=True)
    assert aws_calls.writes_since(before) == []
    assert fake_github.writes()[gh_before:] == []
    assert report.changes[0].detail == (
        f"delete retired key {held.retired}; create a new key and store it in {REPO}; "
        f"deactivate key {held.held}"
    )
    document = json.loads(json.dumps(report.to_json()))  # --json prints it as is
    assert (document["dry_run"], document["changed"]) == (True, True)
    assert document["resources"][0]["detail"] == report.changes[0].detail


def test_public_key_is_fetched_once_per_scope(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path, environment="prod")
    fetched = [r.path for r, _ in fake_github.requests if r.path.endswith("/public-key")]
    assert fetched == [f"/repos/{REPO}/environments/prod/secrets/public-key"]


def test_keys_dry_run_writes_nothing(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    report = keys.run(aws, gh, keys_request(tmp_path), dry_run=True)
    assert aws_calls.writes == []
    assert fake_github.writes() == []
    assert not (tmp_path / ".github").exists()
    key = next(c for c in report.changes if c.resource == "access key")
    assert (key.action.value, key.detail) == (
        "create",
        f"sealed into secrets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY of {REPO}",
    )
