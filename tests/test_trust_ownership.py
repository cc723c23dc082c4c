"""A trust holds more than ghbootstrap wrote: `oidc` and `apply` keep it and write nothing
(unless --force), `explain` prints no fix that would drop it, `status` reports it with no
repair. Judged by the trust in moto after running exactly what the tool printed, and by
the trust evaluator for who is admitted."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from ghbootstrap.documents import same_document
from ghbootstrap.trusteval import may_assume
from tests.conftest import ACCOUNT, REGION, AwsCalls, CliResult
from tests.fakes.github import FakeGitHub
from tests.test_apply import recorded  # noqa: F401 - the fixture: every AWS call the CLI makes

Cli = Callable[..., CliResult]
REPO = "octo-org/hello-world"
ROLE = "ghbootstrap-octo-org-hello-world"
HOST = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}"
SUB = "repo:Octo-Org/Hello-World"
MAIN = f"{SUB}:ref:refs/heads/main"
WORKFLOW_REF = "Octo-Org/Hello-World/.github/workflows/ecr-build-push.yml@refs/heads/main"
V010 = Path(__file__).parent / "data" / "v0.1.0"


def iam() -> Any:
    return boto3.client("iam", region_name=REGION)


def trust() -> dict[str, Any]:
    found: dict[str, Any] = iam().get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    return found


def role_tags() -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in iam().get_role(RoleName=ROLE)["Role"]["Tags"]}


def edit_trust(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = trust()
    edit(document)
    iam().update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(document))
    return document


def admits(document: dict[str, Any], sub: str, **claims: str) -> bool:
    """A job of the repository (the fake's id, 1000) with this sub and these claims."""
    token = {"sub": sub, "aud": "sts.amazonaws.com", "repository_id": "1000", **claims}
    return may_assume(document, PROVIDER, HOST, token)


# -- the hand edits of issue 19, each with who it admits and how `oidc` names it ----------------


def _conditions_and_deny(document: dict[str, Any]) -> None:
    """Only the build workflow, only two people, and never dependabot."""
    allow = document["Statement"][0]["Condition"]["StringEquals"]
    allow[f"{HOST}:job_workflow_ref"] = WORKFLOW_REF
    allow[f"{HOST}:actor"] = ["octocat", "dependabot[bot]"]
    document["Statement"].append(
        {
            "Sid": "NoDependabot",
            "Effect": "Deny",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{HOST}:actor": "dependabot[bot]"}},
        }
    )


def _other_repository(document: dict[str, Any]) -> None:
    document["Statement"][0]["Condition"]["StringEquals"][f"{HOST}:sub"].append(
        "repo:Octo-Org/Other:ref:refs/heads/main"
    )


def _template_form(document: dict[str, Any]) -> None:
    """A custom subject template's form (ghbootstrap writes both `repo:` forms itself)."""
    document["Statement"][0]["Condition"]["StringEquals"][f"{HOST}:sub"].append(
        "repository_id:1000:ref:refs/heads/main"
    )


@dataclass(frozen=True)
class Edit:
    id: str
    edit: Callable[[dict[str, Any]], None]
    differs: str  # how `oidc` and `status` name it
    kept: Callable[[dict[str, Any]], bool]  # the trust evaluator: the edit holds


EDITS = [
    Edit(
        "conditions-and-deny",
        _conditions_and_deny,
        "statement GitHubActionsExactSubjects has conditions of its own (StringEquals "
        f"{HOST}:actor, StringEquals {HOST}:job_workflow_ref); a Deny statement (NoDependabot)",
        lambda d: (
            admits(d, MAIN, actor="octocat", job_workflow_ref=WORKFLOW_REF)
            and not admits(d, MAIN, actor="dependabot[bot]", job_workflow_ref=WORKFLOW_REF)
            and not admits(d, MAIN, actor="octocat", job_workflow_ref=WORKFLOW_REF + "x")
            and not admits(d, MAIN, actor="hubot", job_workflow_ref=WORKFLOW_REF)
        ),
    ),
    Edit(
        "other-repository",
        _other_repository,
        "subjects of other repositories (repo:Octo-Org/Other:ref:refs/heads/main)",
        lambda d: admits(d, "repo:Octo-Org/Other:ref:refs/heads/main") and admits(d, MAIN),
    ),
    Edit(
        "template-form",
        _template_form,
        "subjects of this repository in a form ghbootstrap does not write "
        "(repository_id:1000:ref:refs/heads/main)",
        lambda d: admits(d, "repository_id:1000:ref:refs/heads/main"),
    ),
]
REFUSAL = (
    f"error: the trust policy of IAM role {ROLE} was changed by hand: {{differs}}: pass "
    "--force to replace it with the trust this command writes (dropping those changes), or "
    "change the trust by hand{add}\n"
)


@pytest.mark.parametrize("edit", EDITS, ids=[e.id for e in EDITS])
def test_oidc_keeps_a_trust_changed_by_hand_and_writes_nothing_without_force(
    edit: Edit,
    cli: Cli,
    moto: None,
    fake_github: FakeGitHub,
    recorded: AwsCalls,  # noqa: F811
) -> None:
    assert cli("oidc", REPO, "--no-workflow").code == 0
    edited = edit_trust(edit.edit)
    tags, aws_mark, github_mark = role_tags(), len(recorded.names), len(fake_github.writes())

    again = cli("oidc", REPO, "--no-workflow")
    wider = cli("oidc", REPO, "--branch", "main", "--branch", "dev", "--no-workflow")

    assert again.code == 1
    assert again.out == ""
    assert again.err == REFUSAL.format(differs=edit.differs, add="")
    assert wider.code == 1
    dev = f"{SUB}:ref:refs/heads/dev, repo:Octo-Org@1001/Hello-World@1000:ref:refs/heads/dev"
    assert wider.err == REFUSAL.format(differs=edit.differs, add=f" (add {dev})")
    assert recorded.writes_since(aws_mark) == []
    assert fake_github.writes()[github_mark:] == []
    assert same_document(trust(), edited)
    assert role_tags() == tags
    assert edit.kept(trust())

    forced = cli("oidc", REPO, "--no-workflow", "--force")
    assert forced.code == 0, forced.err
    assert not edit.kept(trust())  # replaced, as asked
    assert cli("status", REPO).code == 0


@pytest.mark.parametrize("edit", EDITS, ids=[e.id for e in EDITS])
def test_explain_prints_no_fix_that_would_drop_a_hand_edit(
    edit: Edit, cli: Cli, moto: None, fake_github: FakeGitHub
) -> None:
    assert cli("oidc", REPO, "--no-workflow").code == 0
    edit_trust(edit.edit)

    result = cli("explain", REPO, "--branch", "dev", "--json")

    assert result.code == 3, result.err
    answer = json.loads(result.out)
    assert answer["admitted"] is False
    assert answer["fix"] is None
    assert answer["reason"].startswith("nearest admitted subject ")
    assert answer["reason"].endswith(
        "; the trust was changed by hand, and `ghbootstrap oidc` would drop that change: "
        f"add the subject {SUB}:ref:refs/heads/dev to it by hand"
    )
    assert edit.kept(trust())


@pytest.mark.parametrize("edit", EDITS, ids=[e.id for e in EDITS])
def test_status_reports_a_trust_changed_by_hand_with_no_repair(
    edit: Edit, cli: Cli, moto: None, fake_github: FakeGitHub
) -> None:
    assert cli("oidc", REPO, "--no-workflow").code == 0
    edit_trust(edit.edit)
    fake_github.repo(REPO).scope.variables.pop("AWS_REGION")  # `oidc` would refuse to repair

    result = cli("status", REPO, "--json")

    assert result.code == 3
    report = json.loads(result.out)
    assert [c["fix"] for c in report["checks"] if c["fix"]] == []
    assert report["problems"] == [
        f"IAM role {ROLE}: its trust policy was changed by hand: {edit.differs}; ghbootstrap "
        "keeps it (`oidc` replaces it only with --force)",
        "GitHub variable AWS_REGION (Octo-Org/Hello-World): not set",
    ]


def test_apply_and_status_file_keep_a_trust_changed_by_hand_and_print_no_repair(
    cli: Cli,
    moto: None,
    fake_github: FakeGitHub,
    tmp_path: Path,
    recorded: AwsCalls,  # noqa: F811
) -> None:
    assert cli("oidc", REPO, "--no-workflow").code == 0
    edited = edit_trust(_conditions_and_deny)
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(f'[[repository]]\nname = "{REPO}"\nworkflow = "none"\n')
    aws_mark, github_mark = len(recorded.names), len(fake_github.writes())

    result = cli("apply", str(fleet), "--json")

    assert result.code == 1
    [outcome] = json.loads(result.out)["repositories"]
    assert outcome["state"] == "failed"
    assert outcome["error"] == REFUSAL.format(differs=EDITS[0].differs, add="")[7:-1]
    assert outcome["repair"] is None
    assert recorded.writes_since(aws_mark) == []
    assert fake_github.writes()[github_mark:] == []
    assert same_document(trust(), edited)
    checked = cli("status", "--file", str(fleet), "--json")
    assert checked.code == 3
    [outcome] = json.loads(checked.out)["repositories"]
    assert outcome["state"] == "drift"
    assert outcome["repair"] is None


# -- what earlier releases wrote is ghbootstrap's own -------------------------------------------


@pytest.mark.parametrize("name", ["oidc-role-default.json", "oidc-role-everything.json"])
def test_a_role_0_1_0_made_is_rewritten_without_force(
    name: str, cli: Cli, moto: None, fake_github: FakeGitHub
) -> None:
    """The role as 0.1.0 itself left it (its fingerprint, no record of the setup)."""
    made = json.loads((V010 / name).read_text())
    iam().create_open_id_connect_provider(
        Url=f"https://{HOST}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )
    iam().create_role(
        RoleName=ROLE,
        AssumeRolePolicyDocument=json.dumps(made["trust"]),
        Tags=[{"Key": k, "Value": v} for k, v in made["tags"].items()],
    )
    assert cli("status", REPO).code == 3  # not set up further than the role
    assert "changed by hand" not in cli("status", REPO).out

    done = cli("oidc", REPO, "--branch", "dev", "--no-workflow", "--json")

    assert done.code == 0, done.err
    assert admits(trust(), f"{SUB}:ref:refs/heads/dev")
    [changed] = [r for r in json.loads(done.out)["resources"] if r["resource"] == "IAM role"]
    assert (changed["action"], changed["detail"]) == (
        "update",
        "trust policy differs: pins it to repository id 1000; admits the immutable subject "
        "form too, until the repository switches",
    )


def _as_0_2_0_rendered(document: dict[str, Any]) -> None:
    """Before the pin: the repository's one subject form, no repository_id."""
    for statement in document["Statement"]:
        condition = statement["Condition"]["StringEquals"]
        del condition[f"{HOST}:repository_id"]
        condition[f"{HOST}:sub"] = [s for s in condition[f"{HOST}:sub"] if "@" not in s]


@pytest.mark.parametrize(
    ("arrange", "refused"),
    [
        (lambda: None, False),  # the rendering of its recorded setup: ours
        (lambda: edit_trust(_as_0_2_0_rendered), False),  # 0.1.0's and 0.2.0's: ours too
        (lambda: edit_trust(_other_repository), True),
    ],
    ids=["as-rendered", "as-0.2.0-rendered", "changed"],
)
def test_a_role_without_a_fingerprint_is_judged_by_its_recorded_setup(
    arrange: Callable[[], object], refused: bool, cli: Cli, moto: None, fake_github: FakeGitHub
) -> None:
    assert cli("oidc", REPO, "--environment", "prod", "--no-workflow").code == 0
    iam().untag_role(RoleName=ROLE, TagKeys=["ghbootstrap:trust"])
    arrange()

    done = cli("oidc", REPO, "--environment", "prod", "--branch", "dev", "--no-workflow")

    assert done.code == (1 if refused else 0), done.err
    assert admits(trust(), f"{SUB}:ref:refs/heads/dev") is not refused
