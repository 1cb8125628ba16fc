"""bot/http_body.py: the one capped body reader, form fields and browser query strings."""

from __future__ import annotations

import io
from typing import Any

import pytest

from bot.errors import RequestRejected
from bot.http_body import MAX_BODY_BYTES, MAX_QUERY_BYTES, form_fields, query_params, read_body, replace_body

CAP = 1000


class Trickle(io.RawIOBase):
    """A body stream that hands out a few bytes per read and counts how many were taken."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self.data, self.step, self.taken = data, step, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self.step if size < 0 else min(size, self.step)
        chunk = self.data[self.taken : self.taken + size]
        self.taken += len(chunk)
        return chunk


def _environ(body: bytes, declared: str | None) -> dict[str, Any]:
    environ: dict[str, Any] = {"wsgi.input": Trickle(body)}
    if declared is not None:
        environ["CONTENT_LENGTH"] = declared
    return environ


@pytest.mark.parametrize("size", [0, 1, CAP - 1, CAP])
@pytest.mark.parametrize("declared", [True, False])
def test_a_body_up_to_the_cap_is_read_whole(size: int, declared: bool) -> None:
    body = bytes(range(256)) * (size // 256) + bytes(size % 256)
    assert read_body(_environ(body, str(size) if declared else None), cap=CAP) == body


@pytest.mark.parametrize("size", [CAP + 1, CAP * 3])
def test_a_body_without_a_length_over_the_cap_is_refused_after_cap_plus_one_bytes(size: int) -> None:
    environ = _environ(b"x" * size, None)
    with pytest.raises(RequestRejected) as refused:
        read_body(environ, cap=CAP)
    assert refused.value.status == 413
    assert environ["wsgi.input"].taken == CAP + 1


@pytest.mark.parametrize("declared", [CAP + 1, 10**12, 10**18])
def test_a_declared_length_over_the_cap_is_refused_without_reading(declared: int) -> None:
    environ = _environ(b"x" * 10, str(declared))
    with pytest.raises(RequestRejected) as refused:
        read_body(environ, cap=CAP)
    assert refused.value.status == 413 and environ["wsgi.input"].taken == 0


@pytest.mark.parametrize("declared", ["abc", "-1", " 5", "5 ", "1e3", "0x10", "١٢", "9" * 30])
def test_a_content_length_that_is_not_a_number_is_refused(declared: str) -> None:
    with pytest.raises(RequestRejected) as refused:
        read_body(_environ(b"12345", declared), cap=CAP)
    assert refused.value.status == 400


def test_a_body_shorter_than_declared_is_what_arrived() -> None:
    assert read_body(_environ(b"abc", "10"), cap=CAP) == b"abc"


def test_the_default_cap_is_one_mebibyte() -> None:
    assert MAX_BODY_BYTES == 1024 * 1024
    assert read_body(_environ(b"y" * MAX_BODY_BYTES, None)) == b"y" * MAX_BODY_BYTES


def test_the_body_read_is_handed_on_as_it_arrived() -> None:
    environ = _environ(b"a=1&b=2", None)
    body = read_body(environ, cap=CAP)
    replace_body(environ, body)
    assert environ["CONTENT_LENGTH"] == "7" and environ["wsgi.input"].read() == b"a=1&b=2"


def test_form_fields_decode_like_a_browser_sends_them() -> None:
    assert form_fields("a=1&b=x+y&c=%E2%9C%93&d=") == {"a": "1", "b": "x y", "c": "✓", "d": ""}


@pytest.mark.parametrize("encoded", ["a=1&a=2", "a=%FF", "a=%C0%AF", "a=%ED%A0%80", "&".join(["x=1"] * 2)])
def test_form_fields_refuse_repeats_and_undecodable_escapes(encoded: str) -> None:
    with pytest.raises(RequestRejected) as refused:
        form_fields(encoded)
    assert refused.value.status == 400


def test_form_fields_refuse_more_fields_than_any_page_sends() -> None:
    with pytest.raises(RequestRejected):
        form_fields("&".join(f"f{i}=1" for i in range(100)))


def test_a_query_string_is_capped_at_8_kib() -> None:
    assert query_params({"QUERY_STRING": "s=" + "a" * (MAX_QUERY_BYTES - 2)})["s"] == "a" * (MAX_QUERY_BYTES - 2)
    with pytest.raises(RequestRejected) as refused:
        query_params({"QUERY_STRING": "s=" + "a" * (MAX_QUERY_BYTES - 1)})
    assert refused.value.status == 414


@pytest.mark.parametrize(
    "char", ["%00", "%0A", "%0D", "%09", "%1B", "%7F", "%C2%85", "%E2%80%AE", "%E2%80%8B", "%EF%BB%BF"]
)
def test_a_query_with_control_or_invisible_characters_is_refused(char: str) -> None:
    for query in (f"state=a{char}b", f"a{char}b=1"):
        with pytest.raises(RequestRejected) as refused:
            query_params({"QUERY_STRING": query})
        assert refused.value.status == 400
