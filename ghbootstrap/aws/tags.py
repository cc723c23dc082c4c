"""AWS tags as dicts, and the tag that marks what ghbootstrap made for which repository."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ghbootstrap.target import TAG_REPOSITORY

Tags = dict[str, str]


def to_dict(tags: Iterable[Mapping[str, str]] | None) -> Tags:
    return {t["Key"]: t["Value"] for t in tags or ()}


def to_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def ownership(repository_key: str) -> Tags:
    return {TAG_REPOSITORY: repository_key}


def owned_by(tags: Mapping[str, str], repository_key: str) -> bool:
    return tags.get(TAG_REPOSITORY) == repository_key
