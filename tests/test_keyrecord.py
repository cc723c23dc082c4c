"""keyrecord.py: the key record on the IAM user's tags, written and read back; where the
secrets live (`repository` or an escaped environment name, continued over several tags
when long); and the records earlier releases wrote (the plain name, or a hash of it),
which every later release still reads. The tag names and values are a stored format:
they are spelled out here, so a change to them fails a test."""

from __future__ import annotations

import pytest

from ghbootstrap.keyrecord import (
    KeyRecord,
    environment_of,
    record_scope,
    scope_tag,
)

KEY_TAGS = (
    "ghbootstrap:key-held",
    "ghbootstrap:key-retired",
    "ghbootstrap:key-pending",
    "ghbootstrap:key-pending-stage",
    "ghbootstrap:key-pending-mark",
    "ghbootstrap:key-id-written",
    "ghbootstrap:key-secret-written",
    "ghbootstrap:secrets-scope",
)


# -- the record -------------------------------------------------------------------------------


def test_an_empty_record_writes_every_tag_empty() -> None:
    """Writing the whole record at once clears what an earlier state left."""
    assert KeyRecord().to_tags() == dict.fromkeys(KEY_TAGS, "")
    assert KeyRecord.from_tags({}) == KeyRecord()


def test_a_rotation_half_way_is_written_and_read_back() -> None:
    """A key held, the one before it retired, a new one pending whose id GitHub took."""
    record = KeyRecord(
        held="AKIAHELD00000000001",
        retired="AKIARETIRED00000001",
        pending="AKIAPENDING00000001",
        stage="id-stored",
        mark="2026-03-01T10:00:00Z",
        scope=record_scope("prod: eu"),
        id_written="2026-03-01T10:00:05Z",
        secret_written="2026-02-01T09:00:00Z",
    )
    tags = record.to_tags()
    assert tags == {
        "ghbootstrap:key-held": "AKIAHELD00000000001",
        "ghbootstrap:key-retired": "AKIARETIRED00000001",
        "ghbootstrap:key-pending": "AKIAPENDING00000001",
        "ghbootstrap:key-pending-stage": "id-stored",
        "ghbootstrap:key-pending-mark": "2026-03-01T10:00:00Z",
        "ghbootstrap:key-id-written": "2026-03-01T10:00:05Z",
        "ghbootstrap:key-secret-written": "2026-02-01T09:00:00Z",
        "ghbootstrap:secrets-scope": "environment:prod:@20eu",
    }
    assert KeyRecord.from_tags(tags) == record


def test_a_key_just_created_before_any_secret_existed() -> None:
    tags = {
        "ghbootstrap:repository": "octo-org/hello-world",  # other tags are not the record's
        "ghbootstrap:setup": "region=eu-west-1",
        "ghbootstrap:key-pending": "AKIAPENDING00000001",
        "ghbootstrap:key-pending-stage": "created",
        "ghbootstrap:key-pending-mark": "none",
        "ghbootstrap:secrets-scope": "repository",
    }
    assert KeyRecord.from_tags(tags) == KeyRecord(
        pending="AKIAPENDING00000001", stage="created", mark="none", scope="repository"
    )


# -- where the secrets live -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "scope"),
    [
        (None, "repository"),
        ("prod", "environment:prod"),
        ("prod: eu", "environment:prod:@20eu"),
        ("café (1)", "environment:caf@C3@A9@20@281@29"),
        ("a+b@c", "environment:a@2Bb@40c"),
    ],
)
def test_the_recorded_scope(environment: str | None, scope: str) -> None:
    assert record_scope(environment) == scope
    assert environment_of(scope) == environment


NAMES_TO_RECORD = [
    "prod",
    "prod (eu)",
    "prod #1",
    "prod: eu",
    "a=41b",
    "ünïcødé staging",
    "${{ secrets.X }}",
    "'\"\\%",
    "(" * 255,
    "€" * 255,
    "x@41",  # reads like an escape: comes back as typed
    "a+b@c",
    "\U0001f680 launch",
]


@pytest.mark.parametrize("name", NAMES_TO_RECORD)
def test_every_environment_name_round_trips_within_iam_tag_rules(name: str) -> None:
    tags = KeyRecord(held="AKIA1", scope=record_scope(name)).to_tags()
    for value in tags.values():
        assert len(value) <= 256
        assert all(ch.isalnum() or ch in " _.:/=+-@" for ch in value), value
    assert all(key.startswith(("ghbootstrap:key-", "ghbootstrap:secrets-scope")) for key in tags)
    assert environment_of(KeyRecord.from_tags(tags).scope) == name


def test_an_empty_scope_is_the_repository() -> None:
    """A record written before scopes were recorded."""
    assert environment_of("") is None


def test_a_long_name_is_continued_over_key_scope_tags() -> None:
    """255 four-byte characters: 12 bytes of escape each, 3,072 characters in all, twelve
    tags of IAM's 256 (the parts are `key-scope-N`: CI may tag `key-*` only)."""
    environment = "\U0001f680" * 255
    scope = record_scope(environment)
    assert len(scope) == 3072
    tags = KeyRecord(held="AKIAHELD00000000001", scope=scope).to_tags()
    parts = ["ghbootstrap:secrets-scope"] + [f"ghbootstrap:key-scope-{n}" for n in range(2, 13)]
    assert sorted(tags) == sorted([*KEY_TAGS[:-1], *parts])
    assert [len(tags[p]) for p in parts] == [256] * 12
    assert "".join(tags[p] for p in parts) == scope
    record = KeyRecord.from_tags(tags)
    assert record.scope == scope
    assert environment_of(record.scope) == environment


@pytest.mark.parametrize(("length", "parts"), [(256, 1), (257, 2), (512, 2), (513, 3)])
def test_a_part_is_started_only_past_256_characters(length: int, parts: int) -> None:
    scope = "environment:" + "e" * (length - len("environment:"))
    tags = KeyRecord(scope=scope).to_tags()
    scope_tags = [k for k in tags if k == "ghbootstrap:secrets-scope" or "key-scope-" in k]
    assert len(scope_tags) == parts
    assert KeyRecord.from_tags(tags).scope == scope


def test_reading_stops_at_the_first_missing_or_empty_part() -> None:
    first = {"ghbootstrap:secrets-scope": "environment:a"}
    assert KeyRecord.from_tags({**first, "ghbootstrap:key-scope-3": "c"}).scope == "environment:a"
    emptied = {**first, "ghbootstrap:key-scope-2": "", "ghbootstrap:key-scope-3": "c"}
    assert KeyRecord.from_tags(emptied).scope == "environment:a"


# -- what earlier releases recorded ---------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "recorded"),
    [
        (None, "repository"),
        ("prod", "environment:prod"),
        ("prod: eu", "environment:prod: eu"),
        ("café", "environment:café"),
        ("a+b@c", "environment:a+b@c"),
        ("prod (eu)", "environment-sha256:668e979fcf35efbf"),
        ("x" * 200, "environment:" + "x" * 200),
        ("x" * 201, "environment-sha256:84a0678c90937f5d"),
    ],
)
def test_what_releases_before_the_escaped_form_recorded(
    environment: str | None, recorded: str
) -> None:
    """The name as it was where it fitted a tag value, else a hash: still compared with
    --environment to match such a record."""
    assert scope_tag(environment) == recorded


def test_a_hash_alone_cannot_say_the_name() -> None:
    with pytest.raises(LookupError) as unknown:
        environment_of("environment-sha256:668e979fcf35efbf")
    assert unknown.value.args == ("environment-sha256:668e979fcf35efbf",)
    with pytest.raises(LookupError):
        environment_of("somewhere-else")


@pytest.mark.parametrize(
    "environment",
    ["prod", "prod: eu", "café", "a+b@c", "ops@DE", "a b@41"],
)
def test_an_earlier_releases_plain_record_is_read_as_the_name_it_wrote(environment: str) -> None:
    """0.1.0 wrote the name as it is when it fitted. `ops@DE` and `a b@41` hold what reads
    like an escape, but no name escapes to that text: it is the name itself."""
    assert environment_of(scope_tag(environment)) == environment
