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


HEADERS = {  # made at run time (a signature names its time): the same test ids everywhere
    "missing": lambda: None,
    "garbage": lambda: "garbage",
    "other-secret": lambda: signing.sign("other", BODY),
    "other-body": lambda: signing.sign(SECRET, BODY + b" "),
    "an-hour-old": lambda: signing.sign(SECRET, BODY, at=time.time() - 3600),
    "an-hour-ahead": lambda: signing.sign(SECRET, BODY, at=time.time() + 3600),
}
CODES = {"an-hour-old": "stale-webhook", "an-hour-ahead": "stale-webhook"}


@pytest.mark.parametrize("case", sorted(HEADERS))
def test_refused(case: str) -> None:
    with pytest.raises(Problem) as caught:
        signing.verify(SECRET, BODY, HEADERS[case]())
    assert caught.value.status == 400
    assert caught.value.code == CODES.get(case, "bad-signature")


def test_the_timestamp_is_signed_too() -> None:
    header = signing.sign(SECRET, BODY, at=time.time() - 1000)
    moved = header.replace(header.split(",")[0], f"t={int(time.time())}")
    with pytest.raises(Problem):
        signing.verify(SECRET, BODY, moved)
