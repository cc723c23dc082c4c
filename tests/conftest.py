"""Shared fixtures: moto for AWS, the GitHub fake behind `responses`, call recorders."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import responses
from moto import mock_aws

from ghbootstrap.aws.session import Aws, connect
from ghbootstrap.github.api import GitHub
from ghbootstrap.github.connect import connect as connect_github
from ghbootstrap.secret import Secret
from tests.contract import Contract
from tests.fakes.github import FakeGitHub
from tests.fakes.serve import GITHUB_API, install

REGION = "us-east-1"
ACCOUNT = "123456789012"
READ_PREFIXES = ("Get", "List", "Describe")


@dataclass
class AwsCalls:
    """Every AWS API operation made, in order, by name (e.g. 'iam.CreateRole')."""

    names: list[str] = field(default_factory=list)

    def record(self, event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".")
        self.names.append(f"{service}.{operation}")

    @property
    def writes(self) -> list[str]:
        return self.writes_since(0)

    def writes_since(self, start: int) -> list[str]:
        """Write calls after the first `start` calls (take `len(calls.names)` as a mark)."""
        names = self.names[start:]
        return [n for n in names if not n.split(".")[1].startswith(READ_PREFIXES)]


@pytest.fixture(autouse=True, scope="session")
def one_botocore_loader() -> Iterator[None]:
    """botocore reads and parses its service models afresh for every new session, and the
    tests make thousands of sessions (every `connect`, every fault world): a quarter of the
    suite's time. One loader for each data path for the whole run reads each model once.
    The models are botocore's own files, the same for every session; moto is unaffected
    (it answers through botocore's event hooks, which stay per session)."""
    import botocore.loaders
    import botocore.session

    loaders: dict[str | None, botocore.loaders.Loader] = {}

    def shared(search_path_string: str | None = None) -> botocore.loaders.Loader:
        if search_path_string not in loaders:
            loaders[search_path_string] = botocore.loaders.create_loader(search_path_string)
        return loaders[search_path_string]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared)
        yield


@pytest.fixture(autouse=True, scope="session")
def moto_one_request_at_a_time() -> Iterator[None]:
    """AWS serves concurrent requests; in-process moto does not: its backends are plain
    dicts, so `apply --jobs` workers deleting roles while another lists them failed now
    and then with "dictionary changed size during iteration". Each request is answered
    whole, one at a time, as a service's consistent reads are."""
    import threading

    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    answer = BotocoreStubber.process_request

    def one_at_a_time(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return answer(self, request)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BotocoreStubber, "process_request", one_at_a_time)
        yield


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test runs in an empty folder, outside any checkout: --open-pr needs none, and
    a run that should write no local file has nowhere to hide one."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No real credentials, config or endpoints leak in from the machine running tests."""
    isolate(monkeypatch, tmp_path)


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """`clean_env`, for a fixture that outlives one test (its own MonkeyPatch)."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_ECR",
        "AWS_SESSION_TOKEN",
        "GH_TOKEN",
        "GITHUB_TOKEN",
        "GITHUB_API_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no `gh` to find a token with


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def aws_calls() -> AwsCalls:
    return AwsCalls()


@pytest.fixture
def aws(moto: None, aws_calls: AwsCalls) -> Aws:
    session = connect(None, REGION)
    session.session.events.register("before-call", aws_calls.record)
    return session


CONTRACT_TOTALS = {"requests": 0, "responses": 0}
FAULTS_SURVIVED = {"aws": 0, "github": 0}


@pytest.fixture
def contract() -> Iterator[Contract]:
    """Checks every request and answer against GitHub's OpenAPI description."""
    checker = Contract()
    yield checker
    CONTRACT_TOTALS["requests"] += checker.requests
    CONTRACT_TOTALS["responses"] += checker.responses
    assert checker.violations == [], "requests or answers GitHub's API description rejects"


@pytest.fixture
def fake_github(monkeypatch: pytest.MonkeyPatch, contract: Contract) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    fake.add_repo("Octo-Org/Hello-World")
    fake.observers.append(contract.observe)
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        install(fake, rsps)
        yield fake


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker: hand this worker's counts to the controller, which prints."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["contract"] = dict(CONTRACT_TOTALS)
        output["faults"] = dict(FAULTS_SURVIVED)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: the controller, as a worker ends
def pytest_testnodedown(node: Any, error: object) -> None:
    output = getattr(node, "workeroutput", {})
    for totals, name in ((CONTRACT_TOTALS, "contract"), (FAULTS_SURVIVED, "faults")):
        for key, count in output.get(name, {}).items():
            totals[key] += count


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if sum(FAULTS_SURVIVED.values()):
        terminalreporter.write_line(
            f"Fault injection: {sum(FAULTS_SURVIVED.values())} injected faults survived "
            f"({FAULTS_SURVIVED['aws']} AWS, {FAULTS_SURVIVED['github']} GitHub): each failed "
            "run left a safe state, and its re-run matched a clean run"
        )
    if CONTRACT_TOTALS["requests"]:
        terminalreporter.write_line(
            f"GitHub contract: {CONTRACT_TOTALS['requests']} requests and "
            f"{CONTRACT_TOTALS['responses']} documented answers matched GitHub's "
            "OpenAPI description"
        )


@pytest.fixture
def gh(fake_github: FakeGitHub) -> GitHub:
    return connect_github(GITHUB_API, Secret(fake_github.token))


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run the real entry point in-process: exit code, stdout, stderr."""
    from ghbootstrap.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main(list(args))
        out, err = capsys.readouterr()
        code = done.value.code
        return CliResult(code if isinstance(code, int) else 1, out, err)

    return run


def moto_secret(user: str, key_id: str) -> str:
    """The secret access key moto holds for a key: what GitHub must hold beside its id."""
    from moto.backends import get_backend

    iam = get_backend("iam")[ACCOUNT]["global"]
    key = next(k for k in iam.users[user].access_keys if k.access_key_id == key_id)
    return str(key.secret_access_key)


@pytest.fixture(autouse=True)
def open_gate() -> Iterator[None]:
    """GitHub's pacing gate is process-wide: no test inherits another's rate limit."""
    from ghbootstrap.github.pacing import GATE

    GATE.reset()
    yield
    GATE.reset()
