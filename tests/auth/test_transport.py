"""TLS on gRPC listeners (and mutual TLS), HTTPS options for the gateway, and the loud warning for
plain gRPC off loopback."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from runstash_gateway.auth import https_options
from runstash_protos import transport
from runstash_protos.rpc import service_server


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, signed by the CA."""
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
             "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"))  # fmt: skip
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                 "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.csr"))  # fmt: skip
        (d / f"{name}.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        _openssl("x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / "ca.pem"),
                 "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "1",
                 "-extfile", str(d / f"{name}.ext"), "-out", str(d / f"{name}.pem"))  # fmt: skip
    return d


def _health(channel: grpc.Channel) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status  # type: ignore[no-any-return]


def _serve(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[grpc.Server, int]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    server, port = service_server([], "127.0.0.1:0")
    server.start()
    return server, port


def test_grpc_tls_serves_tls_clients_only(pki: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server, port = _serve(
        monkeypatch, {transport.CERTFILE: str(pki / "server.pem"), transport.KEYFILE: str(pki / "server.key")}
    )
    try:
        secure = transport.channel(f"127.0.0.1:{port}", environ={transport.CAFILE: str(pki / "ca.pem")})
        assert _health(secure) == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError):
            _health(grpc.insecure_channel(f"127.0.0.1:{port}"))
    finally:
        server.stop(None)


def test_mutual_tls_refuses_clients_without_a_certificate(pki: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server, port = _serve(
        monkeypatch,
        {
            transport.CERTFILE: str(pki / "server.pem"),
            transport.KEYFILE: str(pki / "server.key"),
            transport.CLIENT_CAFILE: str(pki / "ca.pem"),
        },
    )
    target = f"127.0.0.1:{port}"
    try:
        with pytest.raises(grpc.RpcError):
            _health(transport.channel(target, environ={transport.CAFILE: str(pki / "ca.pem")}))
        with_cert = {
            transport.CAFILE: str(pki / "ca.pem"),
            transport.CLIENT_CERTFILE: str(pki / "client.pem"),
            transport.CLIENT_KEYFILE: str(pki / "client.key"),
        }
        assert _health(transport.channel(target, environ=with_cert)) == health_pb2.HealthCheckResponse.SERVING
    finally:
        server.stop(None)


def test_plain_grpc_off_loopback_warns_loudly(caplog: pytest.LogCaptureFixture) -> None:
    server = grpc.server(__import__("concurrent.futures").futures.ThreadPoolExecutor(1))
    with caplog.at_level(logging.WARNING, logger="runstash.transport"):
        transport.bind_port(server, "0.0.0.0:0", environ={})
    assert "PLAIN gRPC on 0.0.0.0:0" in caplog.text and "WITHOUT ANY AUTHENTICATION" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="runstash.transport"):
        transport.bind_port(server, "127.0.0.1:0", environ={})
    assert caplog.text == ""
    server.stop(None)


def test_gateway_https_options_need_both_files() -> None:
    assert https_options({}) == {}
    both = {"RUNSTASH_SSL_CERTFILE": "c.pem", "RUNSTASH_SSL_KEYFILE": "k.pem"}
    assert https_options(both) == {"ssl_certfile": "c.pem", "ssl_keyfile": "k.pem"}
    with pytest.raises(ValueError, match="both"):
        https_options({"RUNSTASH_SSL_CERTFILE": "c.pem"})
