"""Any text as an IAM tag value and back: the codec footprint's records and the key
record both use."""

from __future__ import annotations

import re

import pytest

from ghbootstrap.tagcodec import escape, unescape

# IAM's documented rule for tag values, in ASCII.
TAG_VALUE_CHARACTERS = re.compile(r"[A-Za-z0-9 _.:/=+\-@]*")
AWKWARD = ["prod (eu)", "a+b", "a@b", "@41", "x=y", "ünïcödé", "a,b", "*?", "tab\there", "€", ""]


@pytest.mark.parametrize("text", AWKWARD)
def test_any_text_round_trips_in_iam_tag_characters(text: str) -> None:
    escaped = escape(text)
    assert TAG_VALUE_CHARACTERS.fullmatch(escaped)
    assert "+" not in escaped  # free to separate a record's items
    assert unescape(escaped) == text


def test_plain_characters_stay_as_they_are_and_others_are_bytes() -> None:
    assert escape("release/1.x_a:b=c-d") == "release/1.x_a:b=c-d"
    assert escape("a b+é") == "a@20b@2B@C3@A9"
