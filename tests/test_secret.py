"""A Secret never turns into its value by accident."""

from __future__ import annotations

import pickle

import pytest

from ghbootstrap.secret import Secret


def test_every_text_form_is_masked() -> None:
    secret = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert str(secret) == "***"
    assert repr(secret) == "Secret('***')"
    assert f"{secret}" == "***"
    assert f"{secret!r}" == "Secret('***')"
    assert "%s" % secret == "***"  # noqa: UP031
    assert str([secret]) == "[Secret('***')]"
    assert str(ValueError(secret)) == "***"
    assert secret.reveal() == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_a_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret("x"))
