"""The trust the tool writes, evaluated against GitHub tokens the way STS would.

moto never evaluates trust policies; this table is how we know who may assume the role.
"""

from __future__ import annotations

import pytest

from ghbootstrap.identity import trust_for
from ghbootstrap.subjects import GitHubRepo, Scopes, SubjectTemplate
from ghbootstrap.trusteval import admitted_subjects, like_regex, may_assume

HOST = "token.actions.githubusercontent.com"
ISSUER = f"https://{HOST}"
PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{HOST}"
OTHER_PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.evil.example"
REPO = GitHubRepo("Octo-Org", "Hello", owner_id=11, repo_id=22, default_branch="main")
STS = "sts.amazonaws.com"


def written_trust(
    scopes: Scopes, template: SubjectTemplate | None = None, job_workflows: tuple[str, ...] = ()
) -> dict[str, object]:
    """What `oidc` writes: pinned to the repository's id, both subject forms until the
    repository has switched."""
    return trust_for(
        PROVIDER, ISSUER, REPO, template or SubjectTemplate(), scopes, job_workflows
    ).document


SCOPED = written_trust(
    Scopes.parse(branches=["main"], tags=["v*"], environments=["prod", "eu:west"])
)
DEFAULT = written_trust(Scopes())
WITH_PRS = written_trust(Scopes.parse(pull_requests=True))
IMMUTABLE = written_trust(Scopes(), SubjectTemplate(use_immutable_subject=True))


@pytest.mark.parametrize(
    ("trust", "sub", "aud", "allowed"),
    [
        # the branch, tag pattern and environments that were asked for
        (SCOPED, "repo:Octo-Org/Hello:ref:refs/heads/main", STS, True),
        (SCOPED, "repo:Octo-Org/Hello:ref:refs/tags/v1.2.3", STS, True),
        (SCOPED, "repo:Octo-Org/Hello:environment:prod", STS, True),
        (SCOPED, "repo:Octo-Org/Hello:environment:eu%3Awest", STS, True),
        # another branch, a tag outside the pattern, another environment
        (SCOPED, "repo:Octo-Org/Hello:ref:refs/heads/feature", STS, False),
        (SCOPED, "repo:Octo-Org/Hello:ref:refs/tags/release-1", STS, False),
        (SCOPED, "repo:Octo-Org/Hello:environment:staging", STS, False),
        (SCOPED, "repo:Octo-Org/Hello:environment:eu:west", STS, False),
        # pull requests were not asked for
        (SCOPED, "repo:Octo-Org/Hello:pull_request", STS, False),
        (WITH_PRS, "repo:Octo-Org/Hello:pull_request", STS, True),
        # other repositories, look-alikes, wrong case
        (SCOPED, "repo:Octo-Org/Other:ref:refs/heads/main", STS, False),
        (SCOPED, "repo:Octo-Org/Hello-Other:ref:refs/heads/main", STS, False),
        (SCOPED, "repo:Octo-Org-Evil/Hello:ref:refs/heads/main", STS, False),
        (SCOPED, "repo:Octo-Orgx/Hello:ref:refs/tags/v1", STS, False),
        (SCOPED, "repo:octo-org/hello:ref:refs/heads/main", STS, False),
        (SCOPED, "repo:Octo-Org/Hello:ref:refs/heads/Main", STS, False),
        # a tag pattern cannot reach past this repository
        (SCOPED, "repo:Octo-Org/Hello2:ref:refs/tags/v1", STS, False),
        # wrong audience
        (SCOPED, "repo:Octo-Org/Hello:ref:refs/heads/main", "https://github.com/Octo-Org", False),
        # default scope: the default branch alone
        (DEFAULT, "repo:Octo-Org/Hello:ref:refs/heads/main", STS, True),
        (DEFAULT, "repo:Octo-Org/Hello:ref:refs/heads/dev", STS, False),
        (DEFAULT, "repo:Octo-Org/Hello:environment:prod", STS, False),
        # immutable subjects: ids, not names
        (IMMUTABLE, "repo:Octo-Org@11/Hello@22:ref:refs/heads/main", STS, True),
        (IMMUTABLE, "repo:Octo-Org/Hello:ref:refs/heads/main", STS, False),
        (IMMUTABLE, "repo:Octo-Org@99/Hello@22:ref:refs/heads/main", STS, False),
    ],
)
def test_token_claims(trust: dict[str, object], sub: str, aud: str, allowed: bool) -> None:
    claims = {"sub": sub, "aud": aud, "repository_id": "22"}
    assert may_assume(trust, PROVIDER, HOST, claims) is allowed


def test_tokens_from_another_provider_are_refused() -> None:
    claims = {"sub": "repo:Octo-Org/Hello:ref:refs/heads/main", "aud": STS, "repository_id": "22"}
    assert may_assume(DEFAULT, PROVIDER, HOST, claims)
    assert not may_assume(DEFAULT, OTHER_PROVIDER, HOST, claims)


def test_a_token_without_sub_is_refused() -> None:
    assert not may_assume(DEFAULT, PROVIDER, HOST, {"aud": STS})


def test_admitted_subjects_lists_what_the_trust_names() -> None:
    assert admitted_subjects(SCOPED, HOST) == [
        "repo:Octo-Org/Hello:environment:eu%3Awest",
        "repo:Octo-Org/Hello:environment:prod",
        "repo:Octo-Org/Hello:ref:refs/heads/main",
        "repo:Octo-Org/Hello:ref:refs/tags/v*",
        "repo:Octo-Org@11/Hello@22:environment:eu%3Awest",
        "repo:Octo-Org@11/Hello@22:environment:prod",
        "repo:Octo-Org@11/Hello@22:ref:refs/heads/main",
        "repo:Octo-Org@11/Hello@22:ref:refs/tags/v*",
    ]


# The evaluator itself, on trusts the tool would never write.


def _trust(condition: dict[str, object], effect: str = "Allow") -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": effect,
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        ],
    }


def test_no_condition_admits_every_repository() -> None:
    assert may_assume(_trust({}), PROVIDER, HOST, {"sub": "repo:anyone/anything:pull_request"})


def test_for_all_values_is_vacuously_true_without_the_claim() -> None:
    trust = _trust({"ForAllValues:StringLike": {f"{HOST}:sub": "repo:o/r:*"}})
    assert may_assume(trust, PROVIDER, HOST, {"aud": STS})
    assert not may_assume(trust, PROVIDER, HOST, {"sub": "repo:x/y:pull_request"})


def test_condition_keys_are_case_insensitive_and_values_are_not() -> None:
    trust = _trust({"StringEquals": {f"{HOST.upper()}:SUB": "repo:o/r:pull_request"}})
    assert may_assume(trust, PROVIDER, HOST, {"sub": "repo:o/r:pull_request"})
    assert not may_assume(trust, PROVIDER, HOST, {"sub": "repo:O/R:pull_request"})


def test_ignore_case_negation_if_exists_and_null() -> None:
    sub = {"sub": "repo:O/R:pull_request"}
    assert may_assume(
        _trust({"StringEqualsIgnoreCase": {f"{HOST}:sub": "repo:o/r:pull_request"}}),
        PROVIDER,
        HOST,
        sub,
    )
    assert not may_assume(
        _trust({"StringNotLike": {f"{HOST}:sub": "repo:O/*"}}), PROVIDER, HOST, sub
    )
    assert may_assume(_trust({"StringEqualsIfExists": {f"{HOST}:aud": STS}}), PROVIDER, HOST, sub)
    assert may_assume(_trust({"Null": {f"{HOST}:aud": "true"}}), PROVIDER, HOST, sub)
    assert not may_assume(_trust({"Null": {f"{HOST}:sub": "true"}}), PROVIDER, HOST, sub)


def test_deny_wins_over_allow() -> None:
    trust = _trust({})
    deny = _trust({"StringLike": {f"{HOST}:sub": "repo:o/*"}}, effect="Deny")
    trust["Statement"] += deny["Statement"]  # type: ignore[operator]
    assert not may_assume(trust, PROVIDER, HOST, {"sub": "repo:o/r:pull_request"})
    assert may_assume(trust, PROVIDER, HOST, {"sub": "repo:x/r:pull_request"})


def test_unknown_operators_grant_nothing() -> None:
    trust = _trust({"NumericLessThan": {f"{HOST}:sub": "5"}})
    assert not may_assume(trust, PROVIDER, HOST, {"sub": "1"})


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("repo:o/r:*", "repo:o/r:ref:refs/heads/a:b", True),
        ("repo:o/r:?", "repo:o/r:x", True),
        ("repo:o/r:?", "repo:o/r:xy", False),
        ("a${*}b", "a*b", True),
        ("a${*}b", "axb", False),
        ("a.b", "axb", False),
    ],
)
def test_stringlike_wildcards_and_escapes(pattern: str, value: str, matches: bool) -> None:
    assert (like_regex(pattern).fullmatch(value) is not None) is matches


# -- the evaluator beside STS: what AWS documents for each case ---------------------------------
#
# AWS's IAM reference ("Condition operators"; "Condition keys ... not present in the request
# context"): a key the request lacks matches no value, so StringEquals/StringLike on it is
# false, while its negations and ...IfExists are true; every condition of a statement must
# hold; keys compare case-insensitively, values case-sensitively. Since 2026-01 STS puts
# GitHub's claims (repository_id, job_workflow_ref, ...) in the request context of
# AssumeRoleWithWebIdentity under the issuer's prefix, as strings, as the token has them.

NAME_SUB = "repo:Octo-Org/Hello:ref:refs/heads/main"
IMMUTABLE_SUB = "repo:Octo-Org@11/Hello@22:ref:refs/heads/main"
PLATFORM = "octo-org/platform/.github/workflows/build.yml@refs/heads/main"
OWN_WORKFLOW = "Octo-Org/Hello/.github/workflows/ecr-build-push.yml@refs/heads/main"
BEFORE = written_trust(Scopes())  # the repository has not switched: both forms
AFTER = written_trust(Scopes(), SubjectTemplate(use_immutable_subject=True))  # re-run after
PLATFORM_ONLY = written_trust(Scopes(), job_workflows=(PLATFORM,))
IF_EXISTS = _trust(  # written by hand
    {
        "StringEquals": {f"{HOST}:aud": STS, f"{HOST}:sub": NAME_SUB},
        "StringEqualsIfExists": {f"{HOST}:repository_id": "22"},
        "StringNotEquals": {f"{HOST}:actor": "mallory"},
    }
)


def token(sub: str = NAME_SUB, **extra: str) -> dict[str, str]:
    """GitHub's token for Octo-Org/Hello (id 22), with what a case changes."""
    claims = {"sub": sub, "aud": STS, "repository_id": "22", **extra}
    return {k: v for k, v in claims.items() if v != "-"}  # "-": the token lacks it


@pytest.mark.parametrize(
    ("trust", "claims", "sts"),
    [
        # repository_id: present and equal; absent (no match); another repository's
        (BEFORE, token(), True),
        (BEFORE, token(repository_id="-"), False),
        (BEFORE, token(repository_id="23"), False),
        (BEFORE, token(repository_id="022"), False),  # strings, not numbers
        # both subject forms before the switch; after the re-run, the immutable one alone
        (BEFORE, token(NAME_SUB), True),
        (BEFORE, token(IMMUTABLE_SUB), True),
        (AFTER, token(IMMUTABLE_SUB), True),
        (AFTER, token(NAME_SUB), False),
        # the immutable form names ids: another owner id is another repository
        (BEFORE, token("repo:Octo-Org@12/Hello@22:ref:refs/heads/main"), False),
        # job_workflow_ref: the one admitted; the job's own workflow; a token without it
        (PLATFORM_ONLY, token(job_workflow_ref=PLATFORM), True),
        (PLATFORM_ONLY, token(job_workflow_ref=OWN_WORKFLOW), False),
        (PLATFORM_ONLY, token(job_workflow_ref=PLATFORM.upper()), False),
        (PLATFORM_ONLY, token(), False),
        (BEFORE, token(job_workflow_ref=OWN_WORKFLOW), True),  # no condition: any workflow
        # a hand-written trust: ...IfExists and a negation hold on a key the token lacks
        (IF_EXISTS, token(repository_id="-"), True),
        (IF_EXISTS, token(repository_id="23"), False),
        (IF_EXISTS, token(actor="mallory"), False),
        (IF_EXISTS, token(actor="octocat"), True),
    ],
)
def test_the_evaluator_decides_as_sts_does(
    trust: dict[str, object], claims: dict[str, str], sts: bool
) -> None:
    assert may_assume(trust, PROVIDER, HOST, claims) is sts
