"""Host and origin matching of runstash_gateway.security: values parsed strictly, patterns
matched component by component (no pattern may reach past the port or into a path)."""

from __future__ import annotations

import logging

import pytest
from runstash_gateway.config import DEFAULT_CORS_ORIGINS
from runstash_gateway.security import SecurityPolicy, parse_authority, parse_origin


@pytest.fixture
def default_policy() -> SecurityPolicy:
    return SecurityPolicy((), DEFAULT_CORS_ORIGINS)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:5077@evil.com",
        "127.0.0.1@evil.com",
        "evil.com#127.0.0.1",
        "127.0.0.1/evil.com",
        "127.0.0.1:5077:1",
        "localhost:abc",
        "[::1]x",
        "a b",
    ],
)
def test_malformed_hosts_are_refused_even_when_they_start_like_loopback(
    default_policy: SecurityPolicy, host: str
) -> None:
    assert parse_authority(host) is None
    assert default_policy.host_allowed(host) is False


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:5077", "localhost:5000", "[::1]:5000", "10.1.2.3", "app.localhost"]
)
def test_local_hosts_are_allowed(default_policy: SecurityPolicy, host: str) -> None:
    assert default_policy.host_allowed(host) is True


def test_no_host_header_is_allowed(default_policy: SecurityPolicy) -> None:
    assert default_policy.host_allowed(None) is True


def test_host_patterns_match_names_and_ports_exactly() -> None:
    policy = SecurityPolicy(("mlflow.corp.example", "*.svc.example", "api.example:8443"), ())
    assert policy.host_allowed("mlflow.corp.example")
    assert policy.host_allowed("mlflow.corp.example:5000")  # no port in the pattern: any port
    assert policy.host_allowed("a.b.svc.example:80")
    assert policy.host_allowed("api.example:8443")
    assert not policy.host_allowed("api.example:8444")
    assert not policy.host_allowed("mlflow.corp.example.evil.com")
    assert not policy.host_allowed("evil.com")
    assert not policy.host_allowed("svc.example.evil.com")
    assert not policy.host_allowed("mlflow.corp.example@evil.com")


def test_any_host_warns_loudly_and_still_refuses_malformed_hosts(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="runstash.gateway"):
        policy = SecurityPolicy(("*",), ())
    assert any("SECURITY WARNING" in r.message and "DNS rebinding" in r.message for r in caplog.records)
    assert policy.host_allowed("anything.example.com:1234")
    assert not policy.host_allowed("x@y")


def test_no_warning_without_the_wildcard(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="runstash.gateway"):
        SecurityPolicy(("mlflow.example",), DEFAULT_CORS_ORIGINS)
    assert not [r for r in caplog.records if "SECURITY WARNING" in r.message]


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:5077.evil.com",
        "http://127.0.0.1:5077/evil",
        "http://127.0.0.1:5077@evil.com",
        "http://localhost:1.evil.com",
        "null",
        "http://[::1]:80.evil.com",
    ],
)
def test_default_origin_patterns_never_match_a_longer_origin(
    default_policy: SecurityPolicy, origin: str
) -> None:
    assert default_policy.origin_allowed(origin, "127.0.0.1:5000") is False


@pytest.mark.parametrize("origin", ["http://127.0.0.1:5077", "http://localhost:3000", "http://[::1]:8080"])
def test_default_origin_patterns_match_loopback_on_any_port(
    default_policy: SecurityPolicy, origin: str
) -> None:
    assert default_policy.origin_allowed(origin, "127.0.0.1:5000") is True


def test_wildcard_subdomain_origin_pattern_spans_labels_only() -> None:
    policy = SecurityPolicy((), ("https://*.corp.example",))
    assert policy.origin_allowed("https://app.corp.example", None)
    assert policy.origin_allowed("https://a.b.corp.example", None)
    assert not policy.origin_allowed("https://evil.com/.corp.example", None)
    assert not policy.origin_allowed("https://evil.com?.corp.example", None)
    assert not policy.origin_allowed("https://corp.example.evil.com", None)
    assert not policy.origin_allowed("http://app.corp.example", None)  # scheme is part of it
    assert not policy.origin_allowed("https://app.corp.example:8443", None)  # no port in pattern


def test_same_origin_is_allowed_whatever_the_patterns() -> None:
    policy = SecurityPolicy(("mlflow.example",), ())
    assert policy.origin_allowed("https://mlflow.example:5000", "mlflow.example:5000")
    assert not policy.origin_allowed("https://mlflow.example:5001", "mlflow.example:5000")


def test_parse_origin_keeps_scheme_host_and_port() -> None:
    parsed = parse_origin("HTTPS://App.Example.COM:8443")
    assert parsed is not None
    scheme, authority = parsed
    assert (scheme, authority.host, authority.port) == ("https", "app.example.com", "8443")
