"""Which `sub` claims a role admits, from GitHub's subject settings and the scope options."""

from __future__ import annotations

import random

import pytest

from ghbootstrap.errors import ConflictError, UsageError
from ghbootstrap.subjects import (
    Admitted,
    Form,
    GitHubRepo,
    Grant,
    Scopes,
    Subjects,
    SubjectTemplate,
    build_subjects,
    context_scope,
    decode_environment,
    encode_environment,
    read_subjects,
    split_subject,
    subject_prefix,
)

REPO = GitHubRepo(owner="Octo-Org", name="Hello", owner_id=11, repo_id=22, default_branch="main")


def test_default_template_uses_canonical_owner_and_name() -> None:
    assert subject_prefix(REPO, SubjectTemplate()) == "repo:Octo-Org/Hello"


def test_immutable_subject_uses_ids() -> None:
    template = SubjectTemplate(use_immutable_subject=True)
    assert subject_prefix(REPO, template) == "repo:Octo-Org@11/Hello@22"


def test_sub_claim_prefix_from_github_wins() -> None:
    template = SubjectTemplate(
        use_immutable_subject=True, sub_claim_prefix="repo:Octo-Org@11/Hello@22"
    )
    assert subject_prefix(REPO, template) == "repo:Octo-Org@11/Hello@22"


def test_custom_template_with_repository_id_is_rebuilt() -> None:
    template = SubjectTemplate(
        use_default=False, include_claim_keys=("repository_owner_id", "repository_id", "context")
    )
    assert subject_prefix(REPO, template) == "repository_owner_id:11:repository_id:22"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            SubjectTemplate(use_default=False, include_claim_keys=("repository_owner", "context")),
            "do not name the repository",
        ),
        (
            SubjectTemplate(sub_claim_prefix="repository_owner:Octo-Org"),
            "do not name the repository",
        ),
        (
            SubjectTemplate(sub_claim_prefix="repo:Octo-Org/Hello-Other"),
            "do not name the repository",
        ),
        (
            SubjectTemplate(use_default=False, include_claim_keys=("context", "repo")),
            "does not end with 'context'",
        ),
        (
            SubjectTemplate(use_default=False, include_claim_keys=("repo", "actor", "context")),
            "includes 'actor'",
        ),
    ],
)
def test_templates_that_cannot_pin_the_repository_are_refused(
    template: SubjectTemplate, message: str
) -> None:
    with pytest.raises(ConflictError, match=message):
        subject_prefix(REPO, template)


def test_no_scopes_means_the_default_branch_alone() -> None:
    assert build_subjects("repo:o/r", Scopes(), "trunk") == Subjects(
        exact=("repo:o/r:ref:refs/heads/trunk",), patterns=()
    )


def test_every_scope_kind_and_which_become_patterns() -> None:
    scopes = Scopes.parse(
        branches=["main", "release/*"],
        tags=["v1.0.0", "v*"],
        environments=["prod", "eu:west"],
        pull_requests=True,
    )
    assert build_subjects("repo:o/r", scopes, "main") == Subjects(
        exact=(
            "repo:o/r:ref:refs/heads/main",
            "repo:o/r:ref:refs/tags/v1.0.0",
            "repo:o/r:environment:eu%3Awest",  # scopes are sets, kept sorted
            "repo:o/r:environment:prod",
            "repo:o/r:pull_request",
        ),
        patterns=("repo:o/r:ref:refs/heads/release/*", "repo:o/r:ref:refs/tags/v*"),
    )


def test_an_environment_name_with_a_star_stays_exact() -> None:
    subjects = build_subjects("repo:o/r", Scopes.parse(environments=["prod*"]), "main")
    assert subjects.exact == ("repo:o/r:environment:prod*",)
    assert subjects.patterns == ()


def test_repeated_scopes_are_kept_once() -> None:
    assert Scopes.parse(branches=["main", "main"]).branches == ("main",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"branches": [""]}, "--branch '' is not a valid git ref name"),
        ({"branches": ["a..b"]}, "is not a valid git ref name"),
        ({"branches": ["has space"]}, "is not a valid git ref name"),
        ({"tags": ["v1:2"]}, "--tag 'v1:2' is not a valid git ref name"),
        ({"tags": ["-v1"]}, "is not a valid git ref name"),
        ({"environments": [" "]}, "is not a valid environment name"),
        ({"environments": ["x" * 256]}, "is not a valid environment name"),
    ],
)
def test_bad_scope_values_are_usage_errors(kwargs: dict[str, list[str]], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Scopes.parse(**kwargs)  # type: ignore[arg-type]


# -- and back: subjects to scopes --------------------------------------------------------------


def read(*exact: str, patterns: tuple[str, ...] = ()) -> Admitted:
    return read_subjects(Subjects(exact, patterns))


def test_every_scope_kind_reads_back_under_its_prefix() -> None:
    admitted = read(
        "repo:o/r:ref:refs/heads/main",
        "repo:o/r:ref:refs/tags/v1.0.0",
        "repo:o/r:environment:eu%3Awest",
        "repo:o/r:pull_request",
        patterns=("repo:o/r:ref:refs/heads/release/*", "repo:o/r:ref:refs/tags/v?"),
    )
    assert admitted.unmapped == ()
    [grant] = admitted.grants
    assert grant.prefix == "repo:o/r"
    assert grant.scopes == Scopes(
        branches=("main", "release/*"),
        tags=("v1.0.0", "v?"),
        environments=("eu:west",),
        pull_requests=True,
    )
    assert len(grant.subjects) == 6


@pytest.mark.parametrize(
    ("prefix", "form", "repository"),
    [
        ("repo:Octo-Org/Hello", Form.NAME, "Octo-Org/Hello"),
        ("repo:Octo-Org@11/Hello@22", Form.IMMUTABLE, "Octo-Org/Hello"),
        ("repository_owner_id:11:repository_id:22", Form.CUSTOM, None),
        ("repository:Octo-Org/Hello", Form.CUSTOM, "Octo-Org/Hello"),
        ("repository_owner:Octo-Org:repo:Octo-Org/Hello", Form.CUSTOM, "Octo-Org/Hello"),
    ],
)
def test_the_repository_part_and_its_form_are_kept(
    prefix: str, form: Form, repository: str | None
) -> None:
    [grant] = read(f"{prefix}:ref:refs/heads/main").grants
    assert (grant.prefix, grant.form, grant.repository) == (prefix, form, repository)


def test_both_forms_of_one_repository_are_two_grants() -> None:
    admitted = read("repo:o/r:ref:refs/heads/main", "repo:o@1/r@2:environment:prod")
    assert [(g.prefix, g.form, g.scopes) for g in admitted.grants] == [
        ("repo:o/r", Form.NAME, Scopes(branches=("main",))),
        ("repo:o@1/r@2", Form.IMMUTABLE, Scopes(environments=("prod",))),
    ]
    assert admitted.of_repository("O/R") == (
        Scopes(branches=("main",), environments=("prod",)),
        (),
    )


def test_the_percent_3a_encoding_is_one_pair() -> None:
    assert encode_environment("eu:west:1") == "eu%3Awest%3A1"
    assert decode_environment("eu%3Awest%3A1") == "eu:west:1"
    # A trust written by hand with the ':' as it is reads back as the same environment.
    assert read("repo:o/r:environment:eu:west").scopes() == Scopes(environments=("eu:west",))


def test_a_star_in_an_exact_environment_is_its_name_and_in_a_pattern_a_wildcard() -> None:
    exact = read("repo:o/r:environment:prod*")
    assert (exact.scopes(), exact.unmapped) == (Scopes(environments=("prod*",)), ())
    pattern = read(patterns=("repo:o/r:environment:prod*", "repo:o/r:environment:qa-?"))
    assert pattern.grants == ()
    assert pattern.unmapped == ("repo:o/r:environment:prod*", "repo:o/r:environment:qa-?")


def test_a_pattern_without_wildcards_reads_as_the_exact_value() -> None:
    assert read(patterns=("repo:o/r:environment:prod", "repo:o/r:pull_request")).scopes() == (
        Scopes(environments=("prod",), pull_requests=True)
    )


@pytest.mark.parametrize(
    "sub",
    [
        "repo:o/r:ref:refs/heads/rel*",  # exact: a ref holds no '*'; as a scope, a pattern
        "repo:o/r:ref:refs/pull/1/merge",
        "repo:o/r:ref:refs/heads/a..b",  # a name `oidc` refuses
        "repo:o/r:ref:refs/heads/",
        "repo:o/r:environment:",
        "repo:o/r:environment:" + "x" * 256,
        "repo:o/r:job_workflow_ref:o/r/.github/workflows/ci.yml@refs/heads/main",
        "repo:o/r",
        ":pull_request",
        "pull_request",
        "repo:o/*:ref:refs/heads/main",
        "",
    ],
)
def test_what_no_scope_writes_is_returned_not_dropped(sub: str) -> None:
    admitted = read("repo:o/r:ref:refs/heads/main", sub)
    assert admitted.unmapped == (sub,)
    assert admitted.scopes() == Scopes(branches=("main",))


@pytest.mark.parametrize(
    "sub", ["repo:o/*:ref:refs/heads/main", "repo:*:pull_request", "repo:o/r:*", "*"]
)
def test_a_pattern_reaching_past_the_context_is_unmapped(sub: str) -> None:
    assert read(patterns=(sub,)) == Admitted(unmapped=(sub,))


def test_other_repositories_subjects_are_theirs_not_this_ones() -> None:
    admitted = read(
        "repo:Octo/App:ref:refs/heads/main",
        "repo:octo/app:environment:prod",
        "repo:other/repo:ref:refs/heads/main",
        "repo:o/r:ref:refs/pull/1/merge",
    )
    assert [g.prefix for g in admitted.grants] == [
        "repo:Octo/App",
        "repo:octo/app",
        "repo:other/repo",
    ]
    assert admitted.of_repository("octo/app") == (
        Scopes(branches=("main",), environments=("prod",)),
        ("repo:o/r:ref:refs/pull/1/merge", "repo:other/repo:ref:refs/heads/main"),
    )
    assert admitted.of_repository("other/repo") == (
        Scopes(branches=("main",)),
        (
            "repo:Octo/App:ref:refs/heads/main",
            "repo:o/r:ref:refs/pull/1/merge",
            "repo:octo/app:environment:prod",
        ),
    )


def test_a_prefix_of_ids_only_is_this_repository_when_it_is_the_only_one() -> None:
    alone = read("repository_owner_id:11:repository_id:22:ref:refs/heads/main")
    assert alone.of_repository("o/r") == (Scopes(branches=("main",)), ())
    beside = read(
        "repository_owner_id:11:repository_id:22:ref:refs/heads/main",
        "repo:o/r:ref:refs/heads/dev",
    )
    assert beside.of_repository("o/r") == (
        Scopes(branches=("dev",)),
        ("repository_owner_id:11:repository_id:22:ref:refs/heads/main",),
    )


def test_nothing_admitted_reads_as_no_scopes() -> None:
    assert read() == Admitted()
    assert read().scopes() == Scopes()
    assert read().of_repository("o/r") == (Scopes(), ())


@pytest.mark.parametrize(
    ("context", "scope"),
    [
        ("ref:refs/heads/main", Scopes(branches=("main",))),
        ("ref:refs/tags/v1", Scopes(tags=("v1",))),
        ("environment:a%3Ab", Scopes(environments=("a:b",))),
        ("pull_request", Scopes(pull_requests=True)),
        ("ref:refs/heads/ma*n", None),  # a job's context is exact
        ("ref:refs/pull/1/merge", None),
        ("", None),
    ],
)
def test_the_scope_one_jobs_context_needs(context: str, scope: Scopes | None) -> None:
    assert context_scope(context) == scope


def test_split_subject_separates_the_repository_part_from_the_context() -> None:
    assert split_subject("repo:o@1/r@2:environment:a:b") == ("repo:o@1/r@2", "environment:a:b")
    assert split_subject("repo:o/r:ref:refs/heads/main") == ("repo:o/r", "ref:refs/heads/main")
    assert split_subject("something else") == ("something else", "")


# -- the round trip, over many generated scopes -----------------------------------------------

_WORD = "abcdefghijklmnopqrstuvwxyz0123456789-_"


def _ref_name(rng: random.Random, wildcards: bool) -> str:
    parts = [
        rng.choice("abcxyz") + "".join(rng.choices(_WORD, k=rng.randint(0, 5)))
        for _ in range(rng.randint(1, 3))
    ]
    name = "/".join(parts)
    if wildcards and rng.random() < 0.4:
        name += rng.choice(["*", "?", "/*", "-*"])
    return name


def _environment(rng: random.Random) -> str:
    # Any printable name but '%' ('a%3Ab' and 'a:b' share one form in `sub`: GitHub's).
    return "".join(rng.choices(_WORD + " :*?.()#é", k=rng.randint(1, 12))).strip() or "e"


def _scopes(rng: random.Random) -> Scopes:
    return Scopes.parse(
        [_ref_name(rng, True) for _ in range(rng.randint(0, 3))],
        [_ref_name(rng, True).replace("/", ".") for _ in range(rng.randint(0, 3))],
        [_environment(rng) for _ in range(rng.randint(0, 3))],
        rng.random() < 0.5,
    )


PREFIXES = [
    "repo:Octo-Org/Hello",
    "repo:Octo-Org@11/Hello@22",
    "repository_owner_id:11:repository_id:22",
    "repository:Octo-Org/Hello",
]


@pytest.mark.parametrize("seed", range(20))
def test_scopes_to_subjects_and_back_are_the_same_scopes(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        scopes, prefix = _scopes(rng), rng.choice(PREFIXES)
        subjects = build_subjects(prefix, scopes, "trunk")

        admitted = read_subjects(subjects)

        expected = scopes if not scopes.is_empty() else Scopes(branches=("trunk",))
        assert admitted == Admitted((Grant(prefix, expected, tuple(sorted(subjects.all))),))
        assert admitted.of_repository("octo-org/hello") == (expected, ())
        again = build_subjects(prefix, admitted.scopes(), "trunk")
        assert (sorted(again.exact), sorted(again.patterns)) == (
            sorted(subjects.exact),
            sorted(subjects.patterns),
        )
