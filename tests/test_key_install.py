"""The install protocol of key_install: refusals undo at once, unknown outcomes and crashes are
decided without trusting `updated_at` to move, and secrets ghbootstrap cannot show it wrote
are never overwritten (without --force) or deleted."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from ghbootstrap.aws.session import Aws
from ghbootstrap.errors import ConflictError, GhbError, GitHubError
from ghbootstrap.flows import destroy, keys, status
from ghbootstrap.github.api import GitHub
from ghbootstrap.keyrecord import KeyRecord
from ghbootstrap.plan import Action
from tests.conftest import AwsCalls
from tests.fakes.github import FakeGitHub, Request, Response
from tests.faults import fail_github, put_secret
from tests.test_keys_flow import (
    NAMES,
    REF,
    REPO,
    USER,
    assert_github_holds_a_working_pair,
    github_pair,
    key_states,
    record,
    run_keys,
    run_rotate,
    written,
)

FORBIDDEN = "Resource not accessible by personal access token"


def secret_requests(fake: FakeGitHub, since: int = 0) -> list[str]:
    return [
        f"{r.method} {r.path.rsplit('/', 1)[-1]} {a.status}"
        for r, a in fake.requests[since:]
        if "/secrets/AWS_" in r.path
    ]


# -- bug 3: a refused write undoes everything at once ------------------------------------


def test_a_refused_first_secret_write_undoes_at_once(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path)
    old, pair = record(aws), github_pair(fake_github)
    since = len(fake_github.requests)
    fail_github(
        fake_github, put_secret("AWS_ACCESS_KEY_ID"), times=9, status=403, message=FORBIDDEN
    )

    with pytest.raises(GitHubError, match="may not write secret AWS_ACCESS_KEY_ID") as caught:
        run_rotate(aws, gh)

    assert caught.value.refused
    assert key_states(aws) == {old.held: "Active"}  # the new key is gone at once
    assert record(aws) == old  # nothing pending
    assert github_pair(fake_github) == pair
    # GitHub said no: nothing to restore, nothing to read back
    assert secret_requests(fake_github, since) == [
        "GET AWS_ACCESS_KEY_ID 200",
        "GET AWS_SECRET_ACCESS_KEY 200",
        "PUT AWS_ACCESS_KEY_ID 403",
    ]


def test_a_refused_second_write_puts_the_first_back_without_reading_back(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path)
    old, pair = record(aws), github_pair(fake_github)
    since = len(fake_github.requests)
    fail_github(
        fake_github, put_secret("AWS_SECRET_ACCESS_KEY"), times=9, status=403, message=FORBIDDEN
    )

    with pytest.raises(GitHubError, match="may not write secret AWS_SECRET_ACCESS_KEY"):
        run_rotate(aws, gh)

    assert key_states(aws) == {old.held: "Active"}
    assert github_pair(fake_github) == pair  # the old id is back
    restored = written(fake_github)
    assert record(aws) == KeyRecord(
        held=old.held,
        scope="repository",
        id_written=restored["id_written"],
        secret_written=old.secret_written,
    )
    assert secret_requests(fake_github, since) == [
        "GET AWS_ACCESS_KEY_ID 200",
        "GET AWS_SECRET_ACCESS_KEY 200",
        "PUT AWS_ACCESS_KEY_ID 204",
        "PUT AWS_SECRET_ACCESS_KEY 403",
        "PUT AWS_ACCESS_KEY_ID 204",  # put back
        "GET AWS_ACCESS_KEY_ID 200",  # its new updated_at, so it stays provably ours
    ]
    assert keys.run(aws, gh, keys.KeysRequest(ref=REF, names=NAMES), dry_run=False).changed is False


def test_a_refused_write_in_keys_leaves_no_key(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fail_github(
        fake_github, put_secret("AWS_ACCESS_KEY_ID"), times=9, status=403, message=FORBIDDEN
    )
    with pytest.raises(GitHubError, match="403"):
        run_keys(aws, gh, tmp_path)
    assert key_states(aws) == {}
    assert record(aws) == KeyRecord(scope="repository")
    assert github_pair(fake_github) == (None, None)


# -- bug 8: decisions that do not need `updated_at` to move ----------------------------


def landed_then_lost(fake: FakeGitHub, match: Callable[[Request], bool]) -> None:
    """GitHub takes the write, but every answer is a 502 (the client cannot know)."""

    def fault(request: Request) -> Response | None:
        if not match(request):
            return None
        fake.faults.remove(fault)
        try:
            fake._dispatch(request)
        finally:
            fake.faults.insert(0, fault)
        return Response(502, {"message": "Server Error"})

    fake.faults.insert(0, fault)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    import time

    asked: list[float] = []
    monkeypatch.setattr(time, "sleep", asked.append)
    return asked


def test_an_unknown_outcome_in_the_same_second_never_breaks_the_pair(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path, no_sleep: list[float]
) -> None:
    run_keys(aws, gh, tmp_path)
    old = record(aws).held
    # every write from now on lands in the second AWS_SECRET_ACCESS_KEY was last written
    fake_github.clock.freeze(written(fake_github)["secret_written"])
    landed_then_lost(fake_github, put_secret("AWS_SECRET_ACCESS_KEY"))

    with pytest.raises(GhbError, match="cannot tell whether it took the new secret"):
        run_rotate(aws, gh)

    new = record(aws).pending
    assert assert_github_holds_a_working_pair(aws, fake_github) == new  # it did land
    assert key_states(aws) == {old: "Active", new: "Active"}  # nothing deleted

    fake_github.faults.clear()
    run_keys(aws, gh, tmp_path)  # the next run repairs: a fresh key over both
    fresh = assert_github_holds_a_working_pair(aws, fake_github)
    assert key_states(aws) == {new: "Inactive", fresh: "Active"}
    assert record(aws) == KeyRecord(
        held=fresh, retired=new, scope="repository", **written(fake_github)
    )


def fail_tag_user(
    aws: Aws, when: Callable[[KeyRecord], bool], stop: list[Callable[[], None]]
) -> list[KeyRecord]:
    """Fail IAM TagUser calls whose record matches `when`, as a run killed there would."""
    seen: list[KeyRecord] = []

    def before(params: dict[str, Any], **_: Any) -> None:
        tags = {t["Key"]: t["Value"] for t in params.get("Tags", [])}
        wanted = KeyRecord.from_tags(tags)
        if when(wanted):
            seen.append(wanted)
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "ServiceFailure", "Message": "stopped"}}, "TagUser"
            )

    aws.iam.raw.meta.events.register_first("before-parameter-build.iam.TagUser", before)
    stop.append(
        lambda: aws.iam.raw.meta.events.unregister("before-parameter-build.iam.TagUser", before)
    )
    return seen


@pytest.mark.parametrize("frozen", [True, False])
def test_a_run_stopped_after_storing_is_repaired_with_the_clock_frozen_or_not(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path, frozen: bool
) -> None:
    run_keys(aws, gh, tmp_path)
    old = record(aws).held
    if frozen:  # every write lands in the second AWS_SECRET_ACCESS_KEY was last written
        fake_github.clock.freeze(written(fake_github)["secret_written"])
    stop: list[Callable[[], None]] = []
    fired = fail_tag_user(aws, lambda r: bool(r.held) and not r.pending and r.held != old, stop)
    with pytest.raises(GhbError, match="iam:TagUser failed: ServiceFailure"):
        run_rotate(aws, gh)
    assert len(fired) == 1
    new = assert_github_holds_a_working_pair(aws, fake_github)
    assert record(aws).pending == new

    stop[0]()
    run_keys(aws, gh, tmp_path)  # keys, which keeps a working key: it must see the truth
    held = assert_github_holds_a_working_pair(aws, fake_github)
    assert record(aws) == KeyRecord(
        held=held, retired=record(aws).retired, scope="repository", **written(fake_github)
    )
    if frozen:  # cannot tell whether the secret landed: a fresh key over both
        assert key_states(aws) == {new: "Inactive", held: "Active"}
    else:  # updated_at moved: the install is finished as it was
        assert held == new
        assert key_states(aws) == {old: "Inactive", new: "Active"}


def test_install_refuses_a_state_with_a_change_pending(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    from ghbootstrap.flows import key_install
    from ghbootstrap.github.api import Holder

    run_keys(aws, gh, tmp_path)
    ctx = key_install.KeyContext(aws=aws, gh=gh, user=USER, scope=Holder("Octo-Org", "Hello-World"))
    state = key_install.read_state(ctx)
    pending = type(state)(state.keys, KeyRecord(pending="AKIAX"), None, None)
    with pytest.raises(GhbError, match=r"the key change to AKIAX of IAM user .* is unfinished"):
        key_install.install(ctx, pending)


# -- issue 10 item 2: secrets another tool wrote -------------------------------------------


def test_keys_refuses_secrets_it_did_not_write_and_force_takes_them_over(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    fake_github.put_secret(REPO, "AWS_ACCESS_KEY_ID", "AKIAOTHERTOOL")
    fake_github.put_secret(REPO, "AWS_SECRET_ACCESS_KEY", "other-tools-secret")
    writes = len(fake_github.writes())
    with pytest.raises(ConflictError) as caught:
        run_keys(aws, gh, tmp_path)
    assert str(caught.value) == (
        f"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in {REPO} exist and ghbootstrap cannot "
        "show it wrote them last; another tool may use them: pass --force to replace what is "
        f"there with a new key of IAM user {USER}"
    )
    assert caught.value.exit_code == 1
    assert aws_calls.writes == []  # nothing written, no key left behind
    assert fake_github.writes()[writes:] == []
    assert github_pair(fake_github) == ("AKIAOTHERTOOL", "other-tools-secret")

    report = run_keys(aws, gh, tmp_path, force=True)
    change = next(c for c in report.changes if c.resource == "access key")
    assert change.detail.endswith("takes over AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (--force)")
    assert_github_holds_a_working_pair(aws, fake_github)
    assert run_keys(aws, gh, tmp_path).changed is False  # now provably ours


def test_a_secret_rewritten_by_another_tool_stops_keys_and_rotate_and_destroy_keeps_it(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    run_keys(aws, gh, tmp_path)
    fake_github.put_secret(REPO, "AWS_SECRET_ACCESS_KEY", "rewritten-by-someone")
    before = len(aws_calls.names)
    with pytest.raises(ConflictError, match=r"^AWS_SECRET_ACCESS_KEY in .* exists and"):
        run_keys(aws, gh, tmp_path)
    with pytest.raises(ConflictError) as refused:
        run_rotate(aws, gh)
    assert str(refused.value).endswith(
        "another tool may use it: if ghbootstrap should take over what is there, run "
        "`ghbootstrap keys octo-org/hello-world --region us-east-1 --no-workflow --force`"
    )
    assert aws_calls.writes_since(before) == []
    checks = status.run(aws, gh, status.StatusRequest(ref=REF, names=NAMES)).checks
    assert [c.detail.split("; ", 1)[-1] for c in checks if c.resource == "GitHub secret"] == [
        f"updated {written(fake_github)['id_written']}",
        "not written last by ghbootstrap",
    ]

    report = destroy.run(
        aws,
        gh,
        destroy.DestroyRequest(ref=REF, names=NAMES),
        dry_run=False,
        confirm=lambda changes: True,
    )
    secrets = {c.name: c.action for c in report.changes if c.resource == "GitHub secret"}
    assert secrets == {
        f"AWS_ACCESS_KEY_ID ({REPO})": Action.DELETE,
        f"AWS_SECRET_ACCESS_KEY ({REPO})": Action.KEEP,
    }
    assert github_pair(fake_github) == (None, "rewritten-by-someone")


@pytest.mark.parametrize("environment", ["prod (eu)", "(" * 255])
def test_destroy_deletes_the_secrets_where_the_record_says_and_nothing_else(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path, environment: str
) -> None:
    fake_github.put_secret(REPO, "AWS_ACCESS_KEY_ID", "AKIAOTHERTOOL")  # another tool's
    fake_github.put_secret(REPO, "AWS_SECRET_ACCESS_KEY", "other-tools-secret")
    run_keys(aws, gh, tmp_path, environment=environment)
    assert_github_holds_a_working_pair(aws, fake_github, environment)

    checks = status.run(aws, gh, status.StatusRequest(ref=REF, names=NAMES)).checks
    secrets = [c.name for c in checks if c.resource == "GitHub secret"]
    assert secrets == [
        f"AWS_ACCESS_KEY_ID ({REPO} environment {environment})",
        f"AWS_SECRET_ACCESS_KEY ({REPO} environment {environment})",
    ]
    destroy.run(
        aws,
        gh,
        destroy.DestroyRequest(ref=REF, names=NAMES),
        dry_run=False,
        confirm=lambda changes: True,
    )
    assert github_pair(fake_github, environment) == (None, None)
    assert github_pair(fake_github) == ("AKIAOTHERTOOL", "other-tools-secret")


def test_an_environment_0_1_0_recorded_as_it_is_is_read_as_that_name(
    cli: Any, aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    """0.1.0 recorded a name that fits a tag value as it is. `ops@DE` reads like an escape
    (`@DE`) that decodes to no text: status, rotate and destroy stopped on it with
    "unexpected UnicodeDecodeError"."""
    run_keys(aws, gh, tmp_path, environment="ops@DE")
    scope = [{"Key": "ghbootstrap:secrets-scope", "Value": "environment:ops@DE"}]
    aws.iam.raw.tag_user(UserName=USER, Tags=scope)  # as 0.1.0 wrote it

    checked = cli("status", "octo-org/hello-world", "--json")
    assert checked.code == 0, checked.out + checked.err
    secrets = [
        c["name"] for c in json.loads(checked.out)["checks"] if c["resource"] == "GitHub secret"
    ]
    assert secrets == [
        f"AWS_ACCESS_KEY_ID ({REPO} environment ops@DE)",
        f"AWS_SECRET_ACCESS_KEY ({REPO} environment ops@DE)",
    ]
    with pytest.raises(GhbError) as refused:
        run_rotate(aws, gh)
    assert str(refused.value) == (
        f"the key of IAM user {USER} is stored in GitHub's environment ops@DE, not "
        "repository: pass the same --environment that `ghbootstrap keys` used"
    )
    run_rotate(aws, gh, environment="ops@DE")
    assert_github_holds_a_working_pair(aws, fake_github, "ops@DE")
    removed = cli("destroy", "octo-org/hello-world", "--yes")
    assert removed.code == 0, removed.err
    assert github_pair(fake_github, "ops@DE") == (None, None)


def test_keys_refusal_through_the_cli_is_one_line_exit_1(
    cli: Any, aws: Aws, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    fake_github.put_secret(REPO, "AWS_SECRET_ACCESS_KEY", "other-tools-secret")
    writes = len(fake_github.writes())
    result = cli("keys", "octo-org/hello-world", "--workflow-path", str(tmp_path / "w.yml"))
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: AWS_SECRET_ACCESS_KEY in {REPO} exists and ghbootstrap cannot show it "
        "wrote it last; another tool may use it: pass --force to replace what is there "
        f"with a new key of IAM user {USER}\n"
    )
    assert aws_calls.writes == []
    assert fake_github.writes()[writes:] == []
    assert not (tmp_path / "w.yml").exists()
