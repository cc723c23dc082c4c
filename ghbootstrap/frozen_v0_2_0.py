"""What 0.2.0 wrote on its pull request branch, so an untouched one is recognised as ours.

0.2.0 opened pull requests (`--open-pr`) and never updated them. It signed neither its
commits (no trailer) nor its descriptions (no marker); later releases do both. Its
commit messages and its title and description templates are copied here from the tag
v0.2.0 (flows/oidc.py, flows/keys.py, flows/migrate.py), word for word. Never edit them.

A template's `{}` stands where 0.2.0 interpolated a value (a repository, a region, a role,
a path, a schedule, "the repository" or "environment NAME"); it is recognised as any text
within one line, matched non-greedily. A sentence 0.2.0 wrote only for some setups (keys'
rotation workflow, migrate's deleted rotation file) gives a template with and without it.
"""

from __future__ import annotations

import re

# The messages of its commits on the branch.
MESSAGES = frozenset(
    {
        "Add or update the workflows ghbootstrap writes",
        "Build with the IAM role instead of an access key (ghbootstrap migrate)",
    }
)

_SETUP = "Build and push images to Amazon ECR (ghbootstrap)"
_MIGRATE = "Build with the IAM role, no AWS key (ghbootstrap migrate)"

_OIDC = (
    "ghbootstrap connected {} to Amazon ECR repository `{}` in {}. The workflow signs in "
    "with GitHub's OIDC token as the IAM role `{}`, which only this repository's chosen "
    "branches, tags or environments may assume: no AWS key is stored anywhere. The Actions "
    "variables AWS_ROLE_ARN, AWS_REGION and ECR_REPOSITORY name them.\n\n"
    "Merging this pull request adds (or upgrades) `{}`. From then on each run builds the "
    "image from the repository's Dockerfile and pushes it to ECR, tagged with the commit "
    "SHA. ghbootstrap upgrades the file on later runs as long as it is left unchanged."
)
_KEYS = (
    "ghbootstrap connected {} to Amazon ECR repository `{}` in {} with the IAM user `{}`, "
    "whose access key is sealed into the Actions secrets AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY of {}.\n\n"
    "Merging this pull request adds (or upgrades) `{}`: each run builds the image from the "
    "repository's Dockerfile and pushes it to ECR, tagged with the commit SHA."
)
_KEYS_ROTATION = (
    " It also adds `{}`, which runs `ghbootstrap rotate` on the schedule `{}` (UTC) to "
    "replace the key; it needs a secret GHBOOTSTRAP_GITHUB_TOKEN that may write this "
    "repository's Actions secrets."
)
_KEYS_END = " ghbootstrap upgrades these files on later runs as long as they are left unchanged."
_MIGRATE_BODY = (
    "ghbootstrap moves {} from the access key of IAM user `{}` to the IAM role `{}`, which "
    "GitHub's OIDC token assumes: no AWS key is stored anywhere.\n\n"
    "Merging this pull request replaces `{}` with the OIDC workflow"
)
_MIGRATE_REMOVAL = " and deletes the key rotation workflow `{}`"
_MIGRATE_END = (
    ". The key and its secrets keep working until `ghbootstrap migrate {} --finish` removes "
    "them, after this change has run."
)

DESCRIPTIONS = (
    (_SETUP, _OIDC),
    (_SETUP, _KEYS + _KEYS_END),
    (_SETUP, _KEYS + _KEYS_ROTATION + _KEYS_END),
    (_MIGRATE, _MIGRATE_BODY + _MIGRATE_END),
    (_MIGRATE, _MIGRATE_BODY + _MIGRATE_REMOVAL + _MIGRATE_END),
)


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(text) for text in template.split("{}")))


_PATTERNS = tuple((title, _pattern(body)) for title, body in DESCRIPTIONS)


def wrote(title: str, body: str) -> bool:
    """Are this title and body a pull request description 0.2.0 wrote, unchanged?"""
    return any(title == ours and found.fullmatch(body) for ours, found in _PATTERNS)
