"""Who the caller is: account, ARN and partition, from STS."""

from __future__ import annotations

from dataclasses import dataclass

from ghbootstrap.aws.session import Client


@dataclass(frozen=True)
class Caller:
    account: str
    arn: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]

    def iam_arn(self, kind: str, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:{kind}/{name}"


def whoami(sts: Client) -> Caller:
    found = sts.get_caller_identity()
    return Caller(account=found["Account"], arn=found["Arn"])
