"""An IAM user's access keys. A new key's secret is returned once, as a `Secret`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ghbootstrap.aws.session import Client
from ghbootstrap.secret import Secret

ACTIVE = "Active"
INACTIVE = "Inactive"


@dataclass(frozen=True)
class AccessKey:
    id: str
    status: str
    created: datetime

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


def list_keys(iam: Client, user: str) -> list[AccessKey]:
    found = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    keys = [AccessKey(k["AccessKeyId"], k["Status"], k["CreateDate"]) for k in found]
    return sorted(keys, key=lambda k: k.created)


def create_key(iam: Client, user: str) -> tuple[AccessKey, Secret]:
    made = iam.create_access_key(UserName=user)["AccessKey"]
    secret = Secret(made.pop("SecretAccessKey"))
    return AccessKey(made["AccessKeyId"], made["Status"], made["CreateDate"]), secret


def set_status(iam: Client, user: str, key_id: str, status: str) -> None:
    iam.update_access_key(UserName=user, AccessKeyId=key_id, Status=status)


def delete_key(iam: Client, user: str, key_id: str) -> None:
    iam.delete_access_key(UserName=user, AccessKeyId=key_id)


def last_used(iam: Client, key_id: str) -> datetime | None:
    found = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
    used: datetime | None = found.get("LastUsedDate")
    return used
