"""The actions our workflows use: pinned in one place, and every template uses exactly those."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from ghbootstrap.pins import PINS
from ghbootstrap.workflow import KEYS_TEMPLATE, OIDC_TEMPLATE, ROTATE_TEMPLATE, template
from tests.test_workflow import WORKFLOWS

TEMPLATES = (OIDC_TEMPLATE, KEYS_TEMPLATE, ROTATE_TEMPLATE)
USES = re.compile(r"^\s*(?:- )?uses: (.*)$", re.MULTILINE)

# Checked in each action's own repository: the tag is the latest release, it resolves to
# this commit, and action.yml at that commit says `runs.using: node24`.
VERIFIED = {
    "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
    "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3",
    "aws-actions/amazon-ecr-login@03f1aad4c6c7ffd436567f42f9384779290529bd # v2.1.7",
    "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0",
}


def test_the_pins_are_the_verified_node24_releases() -> None:
    assert {pin.uses for pin in PINS.values()} == VERIFIED
    assert all(re.fullmatch(r"[0-9a-f]{40}", pin.sha) for pin in PINS.values())


@pytest.mark.parametrize("name", TEMPLATES)
def test_templates_name_actions_only_through_the_pins(name: str) -> None:
    uses = USES.findall(template(name))
    assert uses, "every template uses at least one action"
    assert set(uses) <= {f"<<uses_{key}>>" for key in PINS}


def test_every_rendering_uses_exactly_the_pins_and_every_pin_is_used() -> None:
    used = {line for text in WORKFLOWS.values() for line in USES.findall(text)}
    assert used == {pin.uses for pin in PINS.values()}


def test_no_template_file_carries_a_literal_pin() -> None:
    """Pins live in pins.py only (the frozen 0.1.0 templates are history, not templates)."""
    directory = files("ghbootstrap").joinpath("templates")
    templates = [entry for entry in directory.iterdir() if entry.is_file()]
    assert sorted(entry.name for entry in templates) == sorted(TEMPLATES)
    for entry in templates:
        text = entry.read_text(encoding="utf-8")
        assert not re.search(r"@[0-9a-f]{40}", text), entry.name
