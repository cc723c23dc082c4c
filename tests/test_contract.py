"""The contract check itself: it must reject what GitHub would reject."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.contract import Contract
from tests.fakes.github import SPEC, Request, Response, spec

VENDORED_SHA256 = "561dd1c0f4c376a801bff19d904c554b0aef6d3adc9012f041ac0bc164439b62"


def request(method: str, path: str, body: object = None) -> Request:
    return Request(method, path, "", {}, body)


OK_BODY = {"encrypted_value": "c2VhbGVk", "key_id": "123"}


@pytest.mark.parametrize(
    ("method", "path", "body", "problem"),
    [
        ("PUT", "/repos/o/r/actions/secrets/X", {"encrypted_value": "c2VhbGVk"}, "key_id"),
        ("PUT", "/repos/o/r/actions/secrets/X", {**OK_BODY, "key_id": 123}, "is not of type"),
        ("PUT", "/repos/o/r/actions/secrets/X", {**OK_BODY, "encrypted_value": "x"}, "match"),
        ("POST", "/repos/o/r/actions/variables", {"name": "X"}, "value"),
        ("PATCH", "/repos/o/r/actions/variables", {"name": "X", "value": "1"}, "not found"),
        ("GET", "/repos/o/r/actions/oidc/customization/subject", None, "not found"),
        ("PUT", "/repos/o/r/environments/prod", {"wait_timer": "soon"}, "wait_timer"),
    ],
)
def test_requests_github_would_reject_are_violations(
    method: str, path: str, body: object, problem: str
) -> None:
    contract = Contract()
    contract.observe(request(method, path, body), Response(201, {}))
    assert len(contract.violations) == 1
    assert problem in contract.violations[0].lower()


def test_a_well_formed_exchange_passes() -> None:
    contract = Contract()
    contract.observe(request("PUT", "/repos/o/r/actions/secrets/X", OK_BODY), Response(201, {}))
    contract.observe(
        request("GET", "/repos/o/r/environments/a%3Ab/secrets/X"),
        Response(404, {"message": "Not Found"}),
    )
    assert contract.violations == []
    assert (contract.requests, contract.responses) == (2, 1)


@pytest.mark.parametrize(
    ("response", "problem"),
    [
        (Response(200, {"key_id": "1"}), "key"),
        (Response(201), "undocumented 201"),
        (Response(404, {"nope": 1}), "404 without a message"),
    ],
)
def test_answers_that_do_not_match_are_violations(response: Response, problem: str) -> None:
    contract = Contract()
    contract.observe(request("GET", "/repos/o/r/actions/secrets/public-key"), response)
    assert len(contract.violations) == 1
    assert problem in contract.violations[0]


def test_the_description_is_the_vendored_copy() -> None:
    """The contract is checked against the copy in the repository, byte for byte the one
    tests/openapi/PROVENANCE.md names, so a plain clone runs it."""
    root = Path(__file__).resolve().parents[1]
    assert SPEC.resolve().is_relative_to(root)
    assert hashlib.sha256(SPEC.read_bytes()).hexdigest() == VENDORED_SHA256
    operations = [
        method
        for item in spec()["paths"].values()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    ]
    assert len(operations) == 56
