"""Seal a value for GitHub Actions: a libsodium sealed box to the scope's public key."""

from __future__ import annotations

import base64

from nacl.public import PublicKey, SealedBox

from ghbootstrap.secret import Secret


def seal(public_key_b64: str, value: Secret) -> str:
    box = SealedBox(PublicKey(base64.b64decode(public_key_b64)))
    return base64.b64encode(box.encrypt(value.reveal().encode())).decode()
