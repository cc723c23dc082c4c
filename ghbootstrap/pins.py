"""The actions our workflows use, each pinned to a full commit SHA with its exact tag.

The one place pins live: templates name an action as `<<uses_NAME>>` and rendering puts
`OWNER/REPO@SHA # TAG` there. Each was checked in the action's own repository: the tag
resolves to this commit, the commit's action.yml says `using: node24`, it is the latest
release, and the inputs and outputs our templates use exist at that commit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pin:
    action: str
    sha: str
    tag: str

    @property
    def uses(self) -> str:
        return f"{self.action}@{self.sha} # {self.tag}"


PINS: dict[str, Pin] = {
    "checkout": Pin("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "configure_aws_credentials": Pin(
        "aws-actions/configure-aws-credentials",
        "e6de054238d6b7531b4efff3b6587d9aade6a06c",
        "v6.2.3",
    ),
    "amazon_ecr_login": Pin(
        "aws-actions/amazon-ecr-login", "03f1aad4c6c7ffd436567f42f9384779290529bd", "v2.1.7"
    ),
    "setup_python": Pin(
        "actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"
    ),
}


def placeholders() -> dict[str, str]:
    """Template values: `uses_checkout` -> `actions/checkout@SHA # v7.0.1`, and so on."""
    return {f"uses_{name}": pin.uses for name, pin in PINS.items()}
