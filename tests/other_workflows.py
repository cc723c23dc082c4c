"""Workflow files other people write, as `scan` meets them on a default branch: one that
assumes a role, one that passes access-key secrets to configure-aws-credentials."""

from __future__ import annotations

_HEAD = """name: {name}
on: push
{permissions}jobs:
  {name}:
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
"""


def role_workflow(role: str = "${{ vars.AWS_ROLE_ARN }}") -> bytes:
    head = _HEAD.format(name="push", permissions="permissions:\n  id-token: write\n")
    return (head + f"          role-to-assume: {role}\n          aws-region: us-east-1\n").encode()


def keys_workflow(prefix: str = "") -> bytes:
    """Reads `{prefix}AWS_ACCESS_KEY_ID` and `{prefix}AWS_SECRET_ACCESS_KEY`."""
    return (
        _HEAD.format(name="deploy", permissions="")
        + f"          aws-access-key-id: ${{{{ secrets.{prefix}AWS_ACCESS_KEY_ID }}}}\n"
        + f"          aws-secret-access-key: ${{{{ secrets.{prefix}AWS_SECRET_ACCESS_KEY }}}}\n"
        + "          aws-region: us-east-1\n"
    ).encode()
