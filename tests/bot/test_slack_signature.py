"""bot/slack_signature.py: Slack's signature, checked strictly and without ever raising."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from bot.slack_signature import MAX_AGE_SECONDS, Verdict, expected_signature, verify_signature

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_700_000_000
BODY = b"token=x&team_id=T0TEST&command=%2Fdatastore&text=help"


def _check(timestamp: str | None, signature: str | None, body: bytes = BODY, now: float = NOW) -> Verdict:
    return verify_signature(SECRET, timestamp=timestamp, signature=signature, body=body, now=now)


def _signed(timestamp: str, body: bytes = BODY, secret: str = SECRET) -> str:
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


@pytest.mark.parametrize("shift", [0, -MAX_AGE_SECONDS, MAX_AGE_SECONDS, -1, 1])
def test_a_fresh_signature_verifies(shift: int) -> None:
    timestamp = str(NOW + shift)
    assert _check(timestamp, _signed(timestamp)) is Verdict.VERIFIED


def test_the_signature_is_slacks_documented_one() -> None:
    """Slack's own example from "Verifying requests from Slack"."""
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert expected_signature(SECRET, "1531420618", body) == expected
    assert _check("1531420618", expected, body, now=1531420618) is Verdict.VERIFIED


def _timestamps() -> list[tuple[str, str | None, Verdict]]:
    now = str(NOW)
    cases: list[tuple[str, str | None, Verdict]] = [
        ("missing", None, Verdict.NO_TIMESTAMP),
        ("empty", "", Verdict.NO_TIMESTAMP),
        ("abc", "abc", Verdict.MALFORMED_TIMESTAMP),
        ("decimal", "1.5", Verdict.MALFORMED_TIMESTAMP),
        ("now-decimal", now + ".0", Verdict.MALFORMED_TIMESTAMP),
        ("negative", "-1", Verdict.MALFORMED_TIMESTAMP),
        ("plus", "+" + now, Verdict.MALFORMED_TIMESTAMP),
        ("exponent", "1e9", Verdict.MALFORMED_TIMESTAMP),
        ("leading-space", " " + now, Verdict.MALFORMED_TIMESTAMP),
        ("trailing-space", now + " ", Verdict.MALFORMED_TIMESTAMP),
        ("trailing-newline", now + "\n", Verdict.MALFORMED_TIMESTAMP),
        ("underscores", "1_700_000_000", Verdict.MALFORMED_TIMESTAMP),
        ("leading-zero", "0" + now, Verdict.MALFORMED_TIMESTAMP),
        ("zero", "0", Verdict.MALFORMED_TIMESTAMP),
        ("20-digits", "9" * 20, Verdict.MALFORMED_TIMESTAMP),
        ("hex", "0x6553f100", Verdict.MALFORMED_TIMESTAMP),
        ("nul", now + "\x00", Verdict.MALFORMED_TIMESTAMP),
        ("arabic-indic-123", "١٢٣", Verdict.MALFORMED_TIMESTAMP),
        ("stale", str(NOW - MAX_AGE_SECONDS - 1), Verdict.STALE_TIMESTAMP),
        ("future", str(NOW + MAX_AGE_SECONDS + 1), Verdict.STALE_TIMESTAMP),
        ("ancient", "123", Verdict.STALE_TIMESTAMP),
        ("12-digits", "9" * 12, Verdict.STALE_TIMESTAMP),
    ]
    for name, zero in (("arabic-indic", 0x0660), ("devanagari", 0x0966), ("fullwidth", 0xFF10), ("bengali", 0x09E6)):
        cases.append((f"{name}-now", "".join(chr(zero + int(d)) for d in now), Verdict.MALFORMED_TIMESTAMP))
    return cases


@pytest.mark.parametrize(("label", "timestamp", "verdict"), _timestamps(), ids=[c[0] for c in _timestamps()])
def test_a_timestamp_that_is_not_plain_fresh_digits_is_refused(
    label: str, timestamp: str | None, verdict: Verdict
) -> None:
    """Signed correctly over that very text, so the timestamp alone is what is refused."""
    signature = expected_signature(SECRET, timestamp, BODY) if timestamp and timestamp.isascii() else "v0=" + "0" * 64
    assert _check(timestamp, signature) is verdict


def _signatures() -> list[tuple[str, str | None, Verdict]]:
    good = _signed(str(NOW))
    hexdigits = good.removeprefix("v0=")
    return [
        ("missing", None, Verdict.NO_SIGNATURE),
        ("empty", "", Verdict.NO_SIGNATURE),
        ("prefix-only", "v0=", Verdict.MALFORMED_SIGNATURE),
        ("scheme-v1", "v1=" + hexdigits, Verdict.MALFORMED_SIGNATURE),
        ("no-scheme", hexdigits, Verdict.MALFORMED_SIGNATURE),
        ("63-hex", good[:-1], Verdict.MALFORMED_SIGNATURE),
        ("65-hex", good + "a", Verdict.MALFORMED_SIGNATURE),
        ("uppercase-hex", "v0=" + hexdigits.upper(), Verdict.MALFORMED_SIGNATURE),
        ("uppercase-scheme", "V0=" + hexdigits, Verdict.MALFORMED_SIGNATURE),
        ("non-hex", "v0=" + "g" * 64, Verdict.MALFORMED_SIGNATURE),
        ("non-ascii", "v0=" + "é" * 64, Verdict.MALFORMED_SIGNATURE),
        ("trailing-newline", good + "\n", Verdict.MALFORMED_SIGNATURE),
        ("nul", good[:-1] + "\x00", Verdict.MALFORMED_SIGNATURE),
        ("twice", f"{good},{good}", Verdict.MALFORMED_SIGNATURE),
        ("other-secret", _signed(str(NOW), secret=SECRET + "x"), Verdict.WRONG_SIGNATURE),
        ("other-body", _signed(str(NOW), body=BODY + b"x"), Verdict.WRONG_SIGNATURE),
        ("other-timestamp", _signed(str(NOW - 1)), Verdict.WRONG_SIGNATURE),
        ("zeros", "v0=" + "0" * 64, Verdict.WRONG_SIGNATURE),
    ]


@pytest.mark.parametrize(("label", "signature", "verdict"), _signatures(), ids=[c[0] for c in _signatures()])
def test_a_signature_that_is_not_exactly_slacks_is_refused(label: str, signature: str | None, verdict: Verdict) -> None:
    assert _check(str(NOW), signature) is verdict


def test_any_bytes_sign_and_any_header_text_is_refused_without_raising() -> None:
    rng = random.Random(1111)
    alphabet = "0123456789abcdefv=.-+e x\x00\n١٢٣é\u202e" + chr(0xD800)
    for _ in range(2000):
        body = rng.randbytes(rng.randrange(64))
        timestamp = str(NOW)
        assert _check(timestamp, expected_signature(SECRET, timestamp, body), body) is Verdict.VERIFIED
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randrange(80)))
        assert _check(noise, _signed(str(NOW), body), body) is not Verdict.VERIFIED
        assert _check(timestamp, noise, body) is not Verdict.VERIFIED
