"""AWS tags as dicts. What ghbootstrap's own tags mean lives in ghbootstrap.footprint."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ghbootstrap.footprint import Tags, owned_by, ownership

__all__ = ["Tags", "owned_by", "ownership", "to_dict", "to_list"]


def to_dict(tags: Iterable[Mapping[str, str]] | None) -> Tags:
    return {t["Key"]: t["Value"] for t in tags or ()}


def to_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
