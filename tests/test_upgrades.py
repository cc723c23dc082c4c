"""Upgrades: ghbootstrap replaces its own unmodified files, from any release, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ghbootstrap import frozen_v0_1_0
from ghbootstrap.delivery import file_step
from ghbootstrap.errors import UsageError
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
