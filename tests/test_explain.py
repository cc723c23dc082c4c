"""explain.py, `explain`'s pure half: the job a context describes and the claims GitHub
would put in its token, claims read from JSON or a token (payload only, never echoed),
the fix as one `oidc` command, and the answer as text and JSON. No AWS, no GitHub; the
command on the emulators is tests/test_explain_flow.py."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import pytest

from ghbootstrap.errors import UsageError
from ghbootstrap.explain import (
    Explanation,
    JobContext,
    Setting,
    Token,
    context_claims,
    oidc_fix_command,
    read_claims,
)
from ghbootstrap.flows.oidc import OidcRequest
from ghbootstrap.subjects import GitHubRepo, Scopes, union_of
from ghbootstrap.target import Names, RepoRef
from tests.printed import parse_as_printed

ISSUER = "https://token.actions.githubusercontent.com"
PREFIX = "repo:Octo-Org/Hello-World"
STS = "sts.amazonaws.com"
HINT = "give a JSON object of the token's claims, or the token itself (header.payload.sig)"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token(payload: bytes, signature: bytes = b"\x00signature\xff") -> str:
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    return f"{header}.{b64url(payload)}.{b64url(signature)}"


def refused(build: Any) -> str:
    with pytest.raises(UsageError) as caught:
        build()
    return str(caught.value)


# -- the job a context describes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "context"),
    [
        (JobContext(), "ref:refs/heads/trunk"),
        (JobContext(branch="release/1.x"), "ref:refs/heads/release/1.x"),
        (JobContext(tag="v1.2.3"), "ref:refs/tags/v1.2.3"),
        (JobContext(pull_request=True), "pull_request"),
        (JobContext(environment="prod"), "environment:prod"),
        (JobContext(environment="prod: eu:west"), "environment:prod%3A eu%3Awest"),
        (JobContext(branch="main", environment="prod"), "environment:prod"),
        (JobContext(tag="v1", environment="prod"), "environment:prod"),
        (JobContext(pull_request=True, environment="prod"), "environment:prod"),
    ],
    ids=[
        "default-branch",
        "branch",
        "tag",
        "pull-request",
        "environment",
        "environment-colons",
        "environment-over-branch",
        "environment-over-tag",
        "environment-over-pull-request",
    ],
)
def test_the_context_github_puts_in_sub(job: JobContext, context: str) -> None:
    assert job.context("trunk") == context


REPO = GitHubRepo("Octo-Org", "Hello-World", owner_id=11, repo_id=22, default_branch="main")
IDS = {
    "repository": "Octo-Org/Hello-World",
    "repository_id": "22",
    "repository_owner": "Octo-Org",
    "repository_owner_id": "11",
}
BUILD = "Octo-Org/Hello-World/.github/workflows/ecr-build-push.yml"


def test_the_claims_of_a_job() -> None:
    """As GitHub's token has them: every claim a string, the repository's ids included."""
    job = JobContext(environment="a:b")
    assert context_claims(REPO, PREFIX, job, ISSUER) == {
        "sub": f"{PREFIX}:environment:a%3Ab",
        "aud": "sts.amazonaws.com",
        "iss": ISSUER,
        **IDS,
        "environment": "a:b",
        "ref": "refs/heads/main",
        "job_workflow_ref": f"{BUILD}@refs/heads/main",
    }


def test_the_workflow_a_job_runs() -> None:
    """The repository's build workflow at the job's ref, another path, or the reusable
    workflow given; a pull request's ref (refs/pull/N/merge) is not known."""
    tag = context_claims(REPO, PREFIX, JobContext(tag="v1"), ISSUER, ".github/workflows/x.yaml")
    assert tag["job_workflow_ref"] == "Octo-Org/Hello-World/.github/workflows/x.yaml@refs/tags/v1"
    platform = "acme/platform/.github/workflows/build.yml@refs/heads/main"
    given = context_claims(
        REPO, PREFIX, JobContext(pull_request=True, job_workflow=platform), ISSUER
    )
    assert (given["job_workflow_ref"], "ref" in given) == (platform, False)
    pull = context_claims(REPO, PREFIX, JobContext(pull_request=True), ISSUER)
    assert "job_workflow_ref" not in pull


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"branch": "main", "tag": "v1"},
            "--branch and --tag describe two different jobs: give one of them",
        ),
        (
            {"pull_request": True, "tag": "v1"},
            "--pull-request describes a pull request job, not a branch or tag push: drop "
            "--branch / --tag, or drop --pull-request",
        ),
        ({"branch": ""}, "--branch '' is not one ref name: give the exact name"),
        ({"branch": "release/*"}, "--branch 'release/*' is not one ref name: give the exact name"),
        ({"tag": "v?"}, "--tag 'v?' is not one ref name: give the exact name"),
        (
            {"branch": "a..b"},
            "--branch 'a..b' is not a valid git ref name: use a name such as main or "
            "release/1.x ('*' and '?' are wildcards)",
        ),
        (
            {"tag": "v 1"},
            "--tag 'v 1' is not a valid git ref name: use a name such as main or "
            "release/1.x ('*' and '?' are wildcards)",
        ),
        (
            {"environment": " "},
            "--environment ' ' is not a valid environment name: use 1-255 printable characters",
        ),
    ],
    ids=[
        "branch-and-tag",
        "pull-request-and-tag",
        "empty-branch",
        "branch-pattern",
        "tag-pattern",
        "bad-branch",
        "bad-tag",
        "blank-environment",
    ],
)
def test_a_job_that_cannot_be(given: dict[str, Any], message: str) -> None:
    assert refused(lambda: JobContext(**given)) == message


# -- claims read from the user --------------------------------------------------------------


def test_json_claims_keep_the_strings_and_whole_numbers() -> None:
    text = json.dumps(
        {
            "sub": f"{PREFIX}:pull_request",
            "aud": "sts.amazonaws.com",
            "repository_id": "22",
            "run_number": 7,
            "exp": 1767225600,
            "act": {"sub": "nested"},
        }
    )
    assert read_claims(f"\n  {text}\n") == Token(
        {
            "sub": f"{PREFIX}:pull_request",
            "aud": "sts.amazonaws.com",
            "repository_id": "22",
            "run_number": "7",
            "exp": "1767225600",
        }
    )


def test_a_hand_written_numeric_id_is_the_same_id_and_a_flag_is_no_claim() -> None:
    text = json.dumps({"sub": f"{PREFIX}:pull_request", "repository_id": 22, "x": True})
    assert read_claims(text) == Token({"sub": f"{PREFIX}:pull_request", "repository_id": "22"})


def test_an_audience_array_is_judged_one_audience_at_a_time() -> None:
    text = json.dumps({"sub": f"{PREFIX}:pull_request", "aud": ["api://a", 7, STS]})
    read = read_claims(text)
    assert read == Token({"sub": f"{PREFIX}:pull_request"}, ("api://a", STS))
    assert read.per_audience() == [
        {"sub": f"{PREFIX}:pull_request", "aud": "api://a"},
        {"sub": f"{PREFIX}:pull_request", "aud": STS},
    ]
    assert read_claims(f'{{"sub": "{PREFIX}:pull_request"}}').per_audience() == [
        {"sub": f"{PREFIX}:pull_request"}
    ]


def test_a_token_is_read_for_its_payload_alone() -> None:
    # '>' and '?' make base64url's '-' and '_' appear in the payload part
    claims = {"sub": f"{PREFIX}:ref:refs/heads/a>>>b???", "aud": "sts.amazonaws.com"}
    jwt = token(json.dumps(claims).encode())
    payload = jwt.split(".")[1]
    assert {"-", "_"} <= set(payload)
    assert read_claims(jwt + "\n") == Token(claims)


@pytest.mark.parametrize("jti", ["", "x", "xx"])  # payloads needing 1, 0 and 2 "="
def test_a_token_read_with_or_without_padding(jti: str) -> None:
    claims = {"sub": f"{PREFIX}:ref:refs/heads/main", "aud": STS, "jti": jti}
    header, payload, signature = token(json.dumps(claims).encode()).split(".")
    padded = payload + "=" * (-len(payload) % 4)
    assert read_claims(f"{header}.{padded}.{signature}") == Token(claims)
    assert read_claims(f"{header}.{payload}.{signature}") == Token(claims)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ('{"sub": ', "--claims: the input is not valid JSON"),
        ('{"aud": "sts.amazonaws.com"}', "--claims: the claims have no sub"),
        ('{"sub": ""}', "--claims: the claims have no sub"),
        ('{"sub": ["repo:a/b:pull_request"]}', "--claims: the claims have no sub"),
        (
            '{"sub": "repo:a/b:pull_request", "aud": [1, 2]}',
            "--claims: the claims' aud is an array with no string in it",
        ),
        (token(b'["repo:a/b:pull_request"]'), "--claims: the input is not a JSON object"),
        (token(b'{"aud": "sts.amazonaws.com"}'), "--claims: the claims have no sub"),
        (token(b"sub=repo:a/b:pull_request"), "--claims: the token's payload is not JSON"),
        (token(b'{"sub": "x"}') + ".extra", "--claims: the input is neither JSON nor a JWT"),
        ("abcd.pay+load.wxyz", "--claims: the input is neither JSON nor a JWT"),
        ("   ", "--claims: the input is neither JSON nor a JWT"),
    ],
    ids=[
        "broken-json",
        "no-sub",
        "empty-sub",
        "sub-not-a-string",
        "aud-array-without-strings",
        "payload-not-an-object",
        "payload-without-sub",
        "payload-not-json",
        "four-parts",
        "not-base64url",
        "blank",
    ],
)
def test_claims_that_cannot_be_read_are_refused_without_quoting_them(text: str, what: str) -> None:
    message = refused(lambda: read_claims(text))
    assert message == f"{what}: {HINT}"
    for part in text.split("."):
        if len(part.strip()) > 3:
            assert part.strip() not in message


# -- the fix ---------------------------------------------------------------------------------


def test_the_fix_with_the_default_names(monkeypatch: pytest.MonkeyPatch) -> None:
    setting = Setting("octo-org/hello-world", "us-east-2")
    scopes = Scopes(branches=("main",), pull_requests=True)
    command = oidc_fix_command(setting, scopes)
    assert command == (
        "ghbootstrap oidc octo-org/hello-world --region us-east-2 --branch main "
        "--pull-requests --no-workflow"
    )
    parsed = parse_as_printed(command, monkeypatch)
    ref = RepoRef("octo-org", "hello-world")
    assert parsed.request == OidcRequest(ref=ref, names=Names.resolve(ref), scopes=scopes)
    assert parsed.options["region"] == "us-east-2"


def test_the_fix_keeps_every_setting_of_the_role(monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = "https://token.actions.githubusercontent.com/octo-enterprise"
    setting = Setting(
        "Octo-Org/Hello-World",
        "eu-west-1",
        role="ci-role",
        policy="ci-push",
        ecr_repository="team/app",
        mutable_tags=True,
        issuer=issuer,
        profile="ops",
        github_api_url="https://ghe.example.com/api/v3",
    )
    scopes = Scopes(tags=("v*",), environments=("prod: eu",))
    command = oidc_fix_command(setting, scopes)
    assert command == (
        "ghbootstrap oidc Octo-Org/Hello-World --region eu-west-1 --profile ops "
        "--role-name ci-role --policy-name ci-push --ecr-repo team/app "
        f"--issuer-url {issuer} --github-api-url https://ghe.example.com/api/v3 "
        "--tag 'v*' --environment 'prod: eu' --mutable-tags --no-workflow"
    )
    parsed = parse_as_printed(command, monkeypatch)
    ref = RepoRef("Octo-Org", "Hello-World")
    assert parsed.request == OidcRequest(
        ref=ref,
        names=Names.resolve(ref, ecr_repository="team/app", policy="ci-push", role="ci-role"),
        scopes=scopes,
        immutable_tags=False,
        issuer=issuer,
    )
    assert (parsed.options["profile"], parsed.options["github_api_url"]) == (
        "ops",
        "https://ghe.example.com/api/v3",
    )


def test_the_fix_leaves_out_what_is_the_default() -> None:
    """Names equal to the defaults, and github.com's issuer given as such."""
    setting = Setting(
        "octo-org/hello-world",
        "us-east-1",
        role="ghbootstrap-octo-org-hello-world",
        policy="ghbootstrap-ecr-push-octo-org-hello-world",
        ecr_repository="octo-org/hello-world",
        issuer=ISSUER,
    )
    assert oidc_fix_command(setting, Scopes(environments=("prod",))) == (
        "ghbootstrap oidc octo-org/hello-world --region us-east-1 --environment prod --no-workflow"
    )


def test_merge_keeps_both_scopes_as_sets() -> None:
    kept = Scopes(branches=("main",), tags=("v*",), environments=("prod",))
    added = Scopes(branches=("dev", "main"), environments=("a:b",), pull_requests=True)
    assert union_of(kept, added) == Scopes(
        branches=("dev", "main"),
        tags=("v*",),
        environments=("a:b", "prod"),
        pull_requests=True,
    )
    assert union_of(Scopes(), Scopes()) == Scopes()


# -- the answer ------------------------------------------------------------------------------

DENIED = Explanation(
    repository="octo-org/hello-world",
    role="ci-role",
    sub=f"{PREFIX}:pull_request",
    aud="sts.amazonaws.com",
    issuer=ISSUER,
    admitted=False,
    reason="the trust admits no pull requests",
    admits=[f"{PREFIX}:ref:refs/heads/main", f"{PREFIX}:ref:refs/tags/v*"],
    fix="ghbootstrap oidc octo-org/hello-world --region us-east-1 --pull-requests",
    workflow_fix="run the job in environment prod",
)


def test_a_denial_is_a_problem_and_says_everything_as_text() -> None:
    assert DENIED.problems == ["the trust admits no pull requests"]
    assert DENIED.text().splitlines() == [
        "ghbootstrap explain octo-org/hello-world",
        "  role    ci-role",
        f"  sub     {PREFIX}:pull_request",
        "  aud     sts.amazonaws.com",
        f"  issuer  {ISSUER}",
        f"  admits  {PREFIX}:ref:refs/heads/main",
        f"          {PREFIX}:ref:refs/tags/v*",
        "denied: the trust admits no pull requests",
        "fix: ghbootstrap oidc octo-org/hello-world --region us-east-1 --pull-requests",
        "fix in the workflow: run the job in environment prod",
    ]


def test_a_denial_as_json() -> None:
    assert DENIED.to_json() == {
        "admitted": False,
        "role": "ci-role",
        "sub": f"{PREFIX}:pull_request",
        "aud": "sts.amazonaws.com",
        "issuer": ISSUER,
        "admits": [f"{PREFIX}:ref:refs/heads/main", f"{PREFIX}:ref:refs/tags/v*"],
        "pinned_repository_id": [],
        "job_workflows": [],
        "reason": "the trust admits no pull requests",
        "fix": "ghbootstrap oidc octo-org/hello-world --region us-east-1 --pull-requests",
        "workflow_fix": "run the job in environment prod",
    }


def test_an_admitted_job_is_no_problem_and_a_trust_admitting_nothing_says_so() -> None:
    admitted = Explanation(
        repository="octo-org/hello-world",
        role="ci-role",
        sub=f"{PREFIX}:ref:refs/heads/main",
        aud="sts.amazonaws.com",
        issuer=ISSUER,
        admitted=True,
        reason="statement Exact of the trust admits it",
    )
    assert admitted.problems == []
    assert admitted.text().splitlines()[-2:] == [
        "  admits  (nothing)",
        "admitted: statement Exact of the trust admits it",
    ]
    assert admitted.to_json()["admits"] == []
    assert (admitted.to_json()["fix"], admitted.to_json()["workflow_fix"]) == (None, None)


def test_the_pin_and_the_job_workflows_are_shown() -> None:
    platform = "acme/platform/.github/workflows/build.yml@refs/heads/main"
    shown = replace(DENIED, pinned=["22"], job_workflows=[platform])
    assert shown.text().splitlines()[7:9] == [
        "  pinned  repository id 22",
        f"  jobs of {platform}",
    ]
    assert (shown.to_json()["pinned_repository_id"], shown.to_json()["job_workflows"]) == (
        ["22"],
        [platform],
    )


def test_the_text_answer_shows_a_claim_on_its_own_line_whatever_it_holds() -> None:
    """A pasted token is anyone's text: a line break in its sub would forge an
    'admitted:' line, an escape sequence would drive the terminal."""
    forged = "repo:o/r:ref:refs/heads/x\nadmitted: yes\x1b[2J"
    answer = Explanation(
        repository="o/r",
        role="ci",
        sub=forged,
        aud="sts.amazonaws.com\x07",
        issuer="https://token.actions.githubusercontent.com",
        admitted=False,
        reason=f"no statement admits the subject {forged}",
    )
    lines = answer.text().split("\n")
    assert lines == [
        "ghbootstrap explain o/r",
        "  role    ci",
        "  sub     repo:o/r:ref:refs/heads/x\\nadmitted: yes\\x1b[2J",
        "  aud     sts.amazonaws.com\\x07",
        "  issuer  https://token.actions.githubusercontent.com",
        "  admits  (nothing)",
        "denied: no statement admits the subject repo:o/r:ref:refs/heads/x\\nadmitted: yes\\x1b[2J",
    ]


def test_claims_after_a_byte_order_mark_are_read() -> None:
    claims = {"sub": f"{PREFIX}:ref:refs/heads/main", "aud": STS}
    assert read_claims("\ufeff" + json.dumps(claims) + "\r\n") == Token(claims)
    assert read_claims("\ufeff" + token(json.dumps(claims).encode())) == Token(claims)
