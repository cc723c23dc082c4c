"""All the items of an IAM list call, following its Marker."""

from __future__ import annotations

from typing import Any

from ghbootstrap.aws.session import Client


def all_pages(iam: Client, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    marker: str | None = None
    while True:
        page = getattr(iam, operation)(**params, **({"Marker": marker} if marker else {}))
        items += page[key]
        if not page.get("IsTruncated"):
            return items
        marker = page["Marker"]
