"""Tracking webhooks' signatures: HMAC over the timestamp and the body, checked in constant
time, refused when stale or from the future."""

from __future__ import annotations

import time

import pytest

from liveshop.core.errors import Problem
from liveshop.logistics import signing

SECRET = "s3cret"
BODY = b'{"id":"e1"}'


def test_a_fresh_signature_passes() -> None:
    t = signing.verify(SECRET, BODY, signing.sign(SECRET, BODY))
    assert abs(t - time.time()) < 5


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "bad-signature"),
        ("garbage", "bad-signature"),
        (signing.sign("other", BODY), "bad-signature"),
        (signing.sign(SECRET, BODY + b" "), "bad-signature"),
        (signing.sign(SECRET, BODY, at=time.time() - 3600), "stale-webhook"),
        (signing.sign(SECRET, BODY, at=time.time() + 3600), "stale-webhook"),
    ],
)
def test_refused(header: str | None, code: str) -> None:
    with pytest.raises(Problem) as caught:
        signing.verify(SECRET, BODY, header)
    assert caught.value.status == 400 and caught.value.code == code


def test_the_timestamp_is_signed_too() -> None:
    header = signing.sign(SECRET, BODY, at=time.time() - 1000)
    moved = header.replace(header.split(",")[0], f"t={int(time.time())}")
    with pytest.raises(Problem):
        signing.verify(SECRET, BODY, moved)
