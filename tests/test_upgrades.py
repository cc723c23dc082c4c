"""Upgrades: ghbootstrap replaces its own unmodified files, from any release, and nothing else."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ghbootstrap import frozen_v0_1_0
from ghbootstrap.aws.session import Aws
from ghbootstrap.delivery import file_step
from ghbootstrap.errors import UsageError
from ghbootstrap.keyrecord import KeyRecord
from ghbootstrap.plan import Action
from ghbootstrap.subjects import Scopes
from ghbootstrap.workflow import (
    KEYS_TEMPLATE,
    OIDC_TEMPLATE,
    Origin,
    WorkflowFile,
    build_file,
    intact,
    origin,
    rotation_file,
    sealed,
)
from tests.conftest import moto_secret
from tests.fakes.github import FakeGitHub

DATA = Path(__file__).parent / "data" / "v0.1.0"
REPO = "Octo-Org/Hello-World"
EVERYTHING = Scopes.parse(
    branches=["main", "release/*"], tags=["v*"], environments=["prod"], pull_requests=True
)
USER = "ghbootstrap-octo-org-hello-world"
ROTATE_ARGS = frozen_v0_1_0.rotation_arguments(USER, "prod")


def v010(name: str) -> str:
    """A file 0.1.0 wrote, produced by running 0.1.0 itself (tag v0.1.0, commit a315f2f)."""
    return (DATA / name).read_text()


KEYS_IN_PROD = ["keys", REPO, "--environment", "prod", "--rotation-schedule", "17 4 * * 1"]


@pytest.mark.parametrize(
    ("name", "path", "command"),
    [
        pytest.param(
            # 0.1.0 was given --branch release --branch main --tag 'v*' --environment staging
            # --environment prod: it kept that order, and ran the job in the first environment
            "oidc-given-order.yml",
            "ecr-build-push.yml",
            [
                "oidc",
                REPO,
                *("--environment", "prod", "--environment", "staging"),
                *("--branch", "main", "--branch", "release", "--tag", "v*"),
            ],
            id="oidc build workflow",
        ),
        pytest.param("keys-environment.yml", "ecr-build-push.yml", KEYS_IN_PROD, id="keys build"),
        pytest.param("rotate-environment.yml", "rotate-aws-keys.yml", KEYS_IN_PROD, id="rotation"),
    ],
)
def test_the_flow_that_wrote_a_0_1_0_file_upgrades_it_without_force(
    cli: Any, aws: Any, fake_github: Any, tmp_path: Path, name: str, path: str, command: list[str]
) -> None:
    """The real 0.1.0 file, the real command with the setup's options: what the flow hands
    the frozen renderer must be what 0.1.0 was given (its arguments, its order)."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / path).write_text(v010(name))

    done = cli(*command, "--workflow-path", str(workflows / "ecr-build-push.yml"), "--json")

    assert done.code == 0, done.err
    changes = {c["name"]: (c["action"], c.get("detail")) for c in json.loads(done.out)["resources"]}
    assert changes[str(workflows / path)] == (
        "update",
        "an earlier ghbootstrap rendering: upgraded",
    )
    assert intact((workflows / path).read_text())


@pytest.mark.parametrize(
    ("name", "rendering"),
    [
        ("oidc-default.yml", frozen_v0_1_0.build_workflows(OIDC_TEMPLATE, REPO, Scopes(), "main")),
        (
            "oidc-everything.yml",
            frozen_v0_1_0.build_workflows(OIDC_TEMPLATE, REPO, EVERYTHING, "main"),
        ),
        ("keys-default.yml", frozen_v0_1_0.build_workflows(KEYS_TEMPLATE, REPO, Scopes(), "main")),
        (
            "rotate-environment.yml",
            frozen_v0_1_0.rotation_workflows(REPO, "17 4 * * 1", ROTATE_ARGS, "prod"),
        ),
    ],
)
def test_earlier_renders_exactly_what_0_1_0_wrote(name: str, rendering: tuple[str, ...]) -> None:
    assert v010(name) in rendering


def test_a_rendering_carries_the_digest_of_its_body() -> None:
    text = build_file("w.yml", OIDC_TEMPLATE, REPO, Scopes(), "main").content
    body, last = text.rstrip("\n").rsplit("\n", 1)
    assert last.startswith("# ghbootstrap-digest: sha256:")
    assert intact(text)
    assert intact(text.replace("\n", "\r\n"))  # a Windows checkout's line endings
    assert not intact(text.replace("ubuntu-latest", "ubuntu-24.04"))
    assert not intact(body + "\n")


def test_origin_tells_current_earlier_and_changed_apart() -> None:
    wanted = build_file("w.yml", OIDC_TEMPLATE, REPO, EVERYTHING, "main")
    assert origin(wanted.content, wanted) is Origin.CURRENT
    assert origin(wanted.content.replace("\n", "\r\n"), wanted) is Origin.CURRENT
    assert origin(v010("oidc-everything.yml"), wanted) is Origin.EARLIER
    # a later release's file for other inputs (other scopes): its digest says it is ours
    other = build_file("w.yml", OIDC_TEMPLATE, REPO, Scopes(), "main").content
    assert origin(other, wanted) is Origin.EARLIER
    # a future rendering of ours: any body, sealed
    assert origin(sealed("name: newer\n"), wanted) is Origin.EARLIER
    edited = v010("oidc-everything.yml").replace("docker push", "docker push --quiet")
    assert origin(edited, wanted) is Origin.CHANGED
    assert origin(other.replace("main", "dev"), wanted) is Origin.CHANGED
    # a 0.1.0 file for other inputs cannot be told from a hand edit: left alone
    assert origin(v010("oidc-default.yml"), wanted) is Origin.CHANGED


@pytest.mark.parametrize(
    ("name", "wanted"),
    [
        ("oidc-everything.yml", build_file("", OIDC_TEMPLATE, REPO, EVERYTHING, "main")),
        ("keys-default.yml", build_file("", KEYS_TEMPLATE, REPO, Scopes(), "main")),
        (
            "rotate-environment.yml",
            rotation_file("", REPO, "17 4 * * 1", USER, "eu-west-1", "prod"),
        ),
    ],
)
def test_an_untouched_0_1_0_file_is_upgraded_without_force(
    tmp_path: Path, name: str, wanted: WorkflowFile
) -> None:
    path = tmp_path / "w.yml"
    path.write_text(v010(name))
    wanted = WorkflowFile(str(path), wanted.content, wanted.earlier)
    step = file_step(wanted, force=False)
    assert (step.change.action, step.change.detail) == (
        Action.UPDATE,
        "an earlier ghbootstrap rendering: upgraded",
    )
    assert path.read_text() == v010(name)  # planning writes nothing
    assert step.apply is not None
    step.apply()
    assert path.read_text() == wanted.content
    assert file_step(wanted, force=False).change.action is Action.KEEP


def test_a_changed_file_is_refused_without_force(tmp_path: Path) -> None:
    path = tmp_path / "w.yml"
    changed = v010("oidc-everything.yml").replace("ubuntu-latest", "ubuntu-24.04")
    path.write_text(changed)
    wanted = build_file(str(path), OIDC_TEMPLATE, REPO, EVERYTHING, "main")
    with pytest.raises(UsageError, match="refusing to overwrite") as refused:
        file_step(wanted, force=False)
    assert refused.value.exit_code == 2
    assert path.read_text() == changed
    forced = file_step(wanted, force=True)
    assert (forced.change.action, forced.change.detail) == (
        Action.UPDATE,
        "changed by hand: replaced (--force)",
    )


# -- a key record 0.1.0 wrote: adopted on the evidence of its timestamps --------------------

TYPED = "octo-org/hello-world"
V010_RECORD = (  # every tag 0.1.0 put on the user (flows/keyswap.py and keyrecord.py at v0.1.0)
    "ghbootstrap:repository",
    "ghbootstrap:key-held",
    "ghbootstrap:key-retired",
    "ghbootstrap:key-pending",
    "ghbootstrap:key-pending-mark",
    "ghbootstrap:secrets-scope",
)
# Whole seconds after the held key's CreateDate at which 0.1.0 may have written both secrets
# (it waits for a new key at most PROPAGATION_TIMEOUT s), and just outside.
INSIDE = [0, frozen_v0_1_0.PROPAGATION_TIMEOUT]
OUTSIDE = [-1, frozen_v0_1_0.PROPAGATION_TIMEOUT + 1]


def user_tags(aws: Aws) -> dict[str, str]:
    found = aws.iam.raw.list_user_tags(UserName=USER)["Tags"]
    return {t["Key"]: t["Value"] for t in found}


def keys_of(aws: Aws) -> dict[str, str]:
    found = aws.iam.raw.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in found}


def as_0_1_0_left_it(
    aws: Aws, fake: FakeGitHub, seconds: int, environment: str | None = None
) -> tuple[str, str]:
    """The key setup `keys` just made, turned into what 0.1.0 leaves: its record (no
    `updated_at`, no setup record), and both secrets last written `seconds` after the held
    key's CreateDate, in whole seconds, with GitHub's clock frozen there. Returns the held
    key and that `updated_at`."""
    tags = user_tags(aws)
    aws.iam.raw.untag_user(UserName=USER, TagKeys=[k for k in tags if k not in V010_RECORD])
    held = KeyRecord.from_tags(tags).held
    [created] = [
        k["CreateDate"]
        for k in aws.iam.raw.list_access_keys(UserName=USER)["AccessKeyMetadata"]
        if k["AccessKeyId"] == held
    ]
    at = created.replace(microsecond=0) + timedelta(seconds=seconds)
    fake.clock.freeze(at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        value = fake.secret(REPO, name, environment)
        assert value is not None
        fake.put_secret(REPO, name, value, environment)
    assert KeyRecord.from_tags(user_tags(aws)).v0_1_0
    assert created.microsecond or seconds  # moto's microseconds: a same-second store is "before"
    return held, fake.clock.stamp()


@pytest.mark.parametrize("seconds", INSIDE)
def test_keys_adopts_0_1_0_secrets_stored_within_its_wait(
    cli: Any, aws: Aws, fake_github: FakeGitHub, seconds: int
) -> None:
    assert cli("keys", TYPED, "--environment", "prod", "--no-workflow").code == 0
    held, stamp = as_0_1_0_left_it(aws, fake_github, seconds, "prod")

    dry = cli("keys", TYPED, "--environment", "prod", "--no-workflow", "--dry-run")
    assert dry.code == 0, dry.err
    assert "key record" in dry.out
    assert KeyRecord.from_tags(user_tags(aws)).v0_1_0  # a dry run writes nothing

    done = cli("keys", TYPED, "--environment", "prod", "--no-workflow")

    assert done.code == 0, done.err
    assert keys_of(aws) == {held: "Active"}  # no new key
    assert KeyRecord.from_tags(user_tags(aws)) == KeyRecord(
        held=held, scope="environment:prod", id_written=stamp, secret_written=stamp
    )
    again = cli("keys", TYPED, "--environment", "prod", "--no-workflow", "--json")
    assert json.loads(again.out)["changed"] is False


@pytest.mark.parametrize("seconds", OUTSIDE)
def test_keys_refuses_0_1_0_secrets_written_outside_its_wait(
    cli: Any, aws: Aws, fake_github: FakeGitHub, seconds: int
) -> None:
    assert cli("keys", TYPED, "--no-workflow").code == 0
    held, _ = as_0_1_0_left_it(aws, fake_github, seconds)
    before = user_tags(aws)

    done = cli("keys", TYPED, "--no-workflow")

    assert done.code == 1
    assert "ghbootstrap cannot show it wrote them last" in done.err
    assert keys_of(aws) == {held: "Active"}
    assert KeyRecord.from_tags(user_tags(aws)) == KeyRecord.from_tags(before)  # still 0.1.0's


@pytest.mark.parametrize(
    ("seconds", "adopted"), [(s, True) for s in INSIDE] + [(s, False) for s in OUTSIDE]
)
def test_rotate_uses_the_same_evidence(
    cli: Any, aws: Aws, fake_github: FakeGitHub, seconds: int, adopted: bool
) -> None:
    assert cli("keys", TYPED, "--no-workflow").code == 0
    held, _ = as_0_1_0_left_it(aws, fake_github, seconds)

    done = cli("rotate", TYPED)

    if not adopted:
        assert done.code == 1
        assert "ghbootstrap cannot show it wrote them last" in done.err
        assert keys_of(aws) == {held: "Active"}
        return
    assert done.code == 0, done.err
    new = fake_github.secret(REPO, "AWS_ACCESS_KEY_ID")
    assert keys_of(aws) == {held: "Inactive", new: "Active"}
    assert KeyRecord.from_tags(user_tags(aws)).retired == held


@pytest.mark.parametrize(
    ("seconds", "adopted"), [(s, True) for s in INSIDE] + [(s, False) for s in OUTSIDE]
)
def test_migrate_finish_uses_the_same_evidence(
    cli: Any,
    aws: Aws,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seconds: int,
    adopted: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("keys", TYPED, "--no-workflow").code == 0
    as_0_1_0_left_it(aws, fake_github, seconds)
    assert cli("migrate", TYPED, "--open-pr").code == 0
    fake_github.merge(REPO, 1)

    done = cli("migrate", TYPED, "--finish", "--yes")

    assert done.code == 0, done.err
    left = {n: fake_github.secret(REPO, n) for n in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    assert (left == {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}) is adopted
    assert aws.iam.raw.list_users()["Users"] == []


@pytest.mark.parametrize("landed", [True, False])
def test_an_install_0_1_0_left_half_done_is_settled_by_0_1_0s_rule(
    cli: Any, aws: Aws, fake_github: FakeGitHub, landed: bool
) -> None:
    """0.1.0 recorded a pending key and the mark, no stage. Both secrets written (the
    mark moved): finish, as 0.1.0 would have, never undo into a mismatched pair. Not
    written: undo; the secrets then hold no proof, and keys installs a fresh key."""
    assert cli("keys", TYPED, "--no-workflow").code == 0
    _, mark = as_0_1_0_left_it(aws, fake_github, 0)
    # The crashed run's writes come later: GitHub's clock ticks on from the mark, a second
    # a write (the wall clock could leave them in the mark's own second, and the test to
    # the machine's speed).
    fake_github.clock.frozen = False
    new = aws.iam.raw.create_access_key(UserName=USER)["AccessKey"]
    aws.iam.raw.tag_user(
        UserName=USER,
        Tags=[
            {"Key": "ghbootstrap:key-pending", "Value": new["AccessKeyId"]},
            {"Key": "ghbootstrap:key-pending-mark", "Value": mark},
        ],
    )
    if landed:
        fake_github.put_secret(REPO, "AWS_ACCESS_KEY_ID", new["AccessKeyId"])
        fake_github.put_secret(REPO, "AWS_SECRET_ACCESS_KEY", new["SecretAccessKey"])

    done = cli("keys", TYPED, "--no-workflow")

    assert done.code == 0, done.err
    held = fake_github.secret(REPO, "AWS_ACCESS_KEY_ID")
    assert held is not None
    assert (held == new["AccessKeyId"]) is landed
    assert fake_github.secret(REPO, "AWS_SECRET_ACCESS_KEY") == moto_secret(USER, held)
    assert keys_of(aws)[held] == "Active"
    assert KeyRecord.from_tags(user_tags(aws)).held == held
    assert (new["AccessKeyId"] in keys_of(aws)) is landed
