from __future__ import annotations

import pytest

from bot.wizard.inputs import InvalidInput, name_key, normalize_name, normalize_site_url, parse_top_off


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("eng-wiki", "eng-wiki"),
        ("  Eng   Wiki  ", "Eng Wiki"),
        ("docs_v2.1", "docs_v2.1"),
        ("Équipe Wiki", "Équipe Wiki"),
        ("x" * 64, "x" * 64),
    ],
)
def test_names_accepted(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Give the datastore a name"),
        ("   ", "Give the datastore a name"),
        ("x" * 65, "64 characters"),
        ("eng/wiki", "not /"),
        ("wiki!", "not !"),
        ("a\tb\x00", r"U\+0009 CHARACTER TABULATION \(and 1 other hidden character\)"),
    ],
)
def test_names_refused(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        normalize_name(raw)
    assert caught.value.field == "name"


def test_name_key_is_case_insensitive() -> None:
    assert name_key("Eng-Wiki") == name_key("eng-wiki") == name_key("ENG-WIKI")
    assert name_key("Straße") == name_key("STRASSE")


@pytest.mark.parametrize(
    "raw",
    [
        "acme",
        "acme.atlassian.net",
        "https://acme.atlassian.net",
        "https://acme.atlassian.net/wiki/",
        "https://ACME.atlassian.net/wiki/spaces/ENG/overview?x=1#top",
        " acme.atlassian.net/ ",
        "acme.atlassian.net.",
    ],
)
def test_site_urls_normalised(raw: str) -> None:
    assert normalize_site_url(raw) == "https://acme.atlassian.net"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter your Confluence site"),
        ("http://acme.atlassian.net", "https://"),
        ("https://10.0.0.1", "IP address"),
        ("https://[::1]/wiki", "IP address"),
        ("192.168.0.1", "IP address"),
        ("https://jane:pw@acme.atlassian.net", "user name or password"),
        ("https://acme.atlassian.net:8443", "port"),
        ("acme.atlassian.net:443", "port"),
        ("https://confluence.acme.com", "not a Confluence Cloud site"),
        ("https://acme.atlassian.net.evil.com", "not a Confluence Cloud site"),
        ("https://a.b.atlassian.net", "not a Confluence Cloud site"),
        ("ftp://acme.atlassian.net", "https://"),
        ("-acme-", "not a Confluence Cloud site"),
    ],
)
def test_site_urls_refused(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        normalize_site_url(raw)
    assert caught.value.field == "site_url"


def test_top_off_accepts_numbers_with_separators() -> None:
    settings = parse_top_off("1,000", "10 000", "50000")
    assert (settings.threshold, settings.amount, settings.monthly_cap) == (1000, 10000, 50000)
    assert parse_top_off("5", "5", "").monthly_cap is None


@pytest.mark.parametrize(
    ("threshold", "amount", "cap", "field", "message"),
    [
        ("", "10", None, "threshold", "Enter the threshold"),
        ("abc", "10", None, "threshold", "whole number"),
        ("0", "10", None, "threshold", "more than 0"),
        ("-5", "10", None, "threshold", "whole number"),
        ("10", "1.5", None, "amount", "whole number"),
        ("10", "", None, "amount", "Enter the top-off amount"),
        ("10", "100", "99", "monthly_cap", "at least the top-off amount"),
        ("10", "100", "2000000000", "monthly_cap", "at most"),
    ],
)
def test_top_off_refusals(threshold: str, amount: str, cap: str | None, field: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_top_off(threshold, amount, cap)
    assert caught.value.field == field
