"""The one place that builds boto3 sessions and clients.

Standard credential chain, `--profile`, `--region` (else `AWS_REGION`, as the AWS CLI and
the other SDKs read it, else the profile's: `AWS_DEFAULT_REGION` or its config), standard retry
mode with bounded attempts and timeouts, and AWS's own `AWS_ENDPOINT_URL` variables for
local emulators (botocore reads them; nothing here overrides them). Every client is
wrapped so that its errors arrive as `AwsError` naming the IAM action that failed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from ghbootstrap.aws.errors import translate
from ghbootstrap.errors import UsageError, shown
from ghbootstrap.secret import Secret
from ghbootstrap.target import check_region

log = logging.getLogger("ghbootstrap.aws")

# Throttling is retried, not reported: botocore's standard mode waits rand(0,1) * 2**i
# seconds between attempts, so five attempts in all give up within 1+2+4+8 = 15 s at worst.
RETRY: dict[str, Any] = {"mode": "standard", "total_max_attempts": 5}
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 15


def client_config(pool: int = 10) -> botocore.config.Config:
    return botocore.config.Config(
        retries=RETRY,
        max_pool_connections=pool,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        user_agent_extra="ghbootstrap",
    )


class Client:
    """A boto3 client whose errors are `AwsError`s. Use it like the client itself."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.service = raw.meta.service_model.signing_name or raw.meta.service_model.service_name

    def __getattr__(self, operation: str) -> Any:
        method = getattr(self.raw, operation)
        api_name = self.raw.meta.method_to_api_mapping.get(operation, operation)

        def call(**params: Any) -> Any:
            try:
                return method(**params)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                raise translate(exc, self.service, api_name) from exc

        return call


@dataclass
class Aws:
    """Clients for one session and region, made on first use. A boto3 session may not
    make clients from two threads at once, so making one takes a lock; the clients
    themselves are shared (boto3 clients are thread-safe), `pool` connections each."""

    session: Any
    region: str
    pool: int = 10
    _clients: dict[str, Client] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def client(self, service: str) -> Client:
        with self._lock:
            if service not in self._clients:
                raw = self.session.client(
                    service, region_name=self.region, config=client_config(self.pool)
                )
                raw.meta.events.register("before-call", _log_call)
                self._clients[service] = Client(raw)
            return self._clients[service]

    @property
    def iam(self) -> Client:
        return self.client("iam")

    @property
    def ecr(self) -> Client:
        return self.client("ecr")

    @property
    def sts(self) -> Client:
        return self.client("sts")

    def sts_as(self, access_key_id: str, secret_access_key: Secret) -> Client:
        """An STS client that signs with the given key instead of the caller's."""
        session = boto3.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key.reveal(),
            region_name=self.region,
        )
        raw = session.client("sts", config=client_config())
        raw.meta.events.register("before-call", _log_call)
        return Client(raw)


def _log_call(event_name: str, **_: Any) -> None:
    """-v shows each call by name only: parameters and responses may hold secrets."""
    log.debug("aws %s", event_name.removeprefix("before-call."))


# The regions ECR has, for each data path botocore reads its endpoint data from.
_REGIONS: dict[str | None, frozenset[str]] = {}


def known_regions(session: Any) -> frozenset[str]:
    """The regions botocore's endpoint data lists for ECR. Reading that data is the slow
    part of `connect`, and it only changes with the data path (`AWS_DATA_PATH`, or a
    profile's `data_path`): once a process for each, not once a repository for `apply`."""
    data_path = session._session.get_config_variable("data_path")
    if data_path not in _REGIONS:
        regions: set[str] = set()
        for partition in session.get_available_partitions():
            regions.update(session.get_available_regions("ecr", partition_name=partition))
        _REGIONS[data_path] = frozenset(regions)
    return _REGIONS[data_path]


def _region_from_environment(env: Mapping[str, str]) -> str | None:
    """AWS_REGION, which botocore itself does not read (it reads AWS_DEFAULT_REGION)."""
    if "AWS_REGION" not in env:
        return None
    if not env["AWS_REGION"].strip():
        raise UsageError(
            "AWS_REGION is set but empty",
            "set it to a region such as us-east-1, unset it, or pass --region",
        )
    return env["AWS_REGION"].strip()


def connect(profile: str | None, region: str | None, env: Mapping[str, str] = os.environ) -> Aws:
    """A session from the standard chain. No network call happens here."""
    try:
        session = boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        raise UsageError(
            f"AWS profile '{shown(str(profile))}' is not in your AWS config",
            "check --profile / AWS_PROFILE against `aws configure list-profiles`",
        ) from None
    region = region or _region_from_environment(env) or session.region_name
    region = check_region(region, known_regions(session))
    return Aws(session, region)


def require_credentials(aws: Aws) -> None:
    """Fail before any call when the chain finds no credentials at all."""
    try:
        found = aws.session.get_credentials()
    except botocore.exceptions.BotoCoreError as exc:
        raise translate(exc, "sts", "GetCallerIdentity") from exc
    if found is None:
        raise UsageError(
            "no AWS credentials found",
            "set AWS_PROFILE or pass --profile, run `aws sso login`, or export AWS_ACCESS_KEY_ID",
        )
