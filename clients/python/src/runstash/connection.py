"""Where a job's gRPC calls go and how they get there: targets, TLS, credentials, retries.

Everything is read once from a ``runstash://host:port`` URI and the environment (see the README,
"The gRPC client"): ``RUNSTASH_ARTIFACTS_TARGET`` (the artifact service when it runs apart),
``RUNSTASH_TLS`` / ``RUNSTASH_TLS_CA_FILE`` (TLS, optionally with a private CA) and
``MLFLOW_TRACKING_TOKEN`` or ``MLFLOW_TRACKING_USERNAME`` + ``MLFLOW_TRACKING_PASSWORD`` (sent
as the ``authorization`` header, as the mlflow client sends them over REST).

:func:`call` is the one funnel of unary calls: transient failures (UNAVAILABLE, DEADLINE_EXCEEDED)
are retried with exponential backoff and jitter until a time budget runs out; every other failure
becomes a :class:`~runstash_protos.errors.RunstashError` at once.
"""

from __future__ import annotations

import base64
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlparse

import grpc
from runstash_protos.errors import from_rpc_error

SCHEME = "runstash"
TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

_Resp = TypeVar("_Resp")


def env_flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """An on/off environment setting, with the values every runstash flag accepts."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """The services one job talks to, and how."""

    metadata_target: str
    artifacts_target: str
    tls: bool = False
    ca_file: str | None = None
    authorization: str | None = None
    retry_budget: float = 60.0
    timeout: float = 60.0

    @classmethod
    def from_uri(cls, uri: str, environ: Mapping[str, str] | None = None) -> Endpoint:
        """``runstash://host:port`` (or a bare ``host:port``) plus the environment's settings."""
        env = os.environ if environ is None else environ
        parsed = urlparse(uri if "://" in uri else f"{SCHEME}://{uri}")
        if parsed.scheme != SCHEME or not parsed.netloc:
            raise ValueError(f"not a runstash URI: {uri!r} (expected runstash://host:port)")
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        artifacts = query.get("artifacts") or env.get("RUNSTASH_ARTIFACTS_TARGET") or parsed.netloc
        return cls(
            metadata_target=parsed.netloc,
            artifacts_target=artifacts,
            tls=env_flag(env, "RUNSTASH_TLS", False),
            ca_file=env.get("RUNSTASH_TLS_CA_FILE") or None,
            authorization=_authorization(env),
            retry_budget=float(env.get("RUNSTASH_RETRY_SECONDS", "60")),
            timeout=float(env.get("RUNSTASH_TIMEOUT_SECONDS", "60")),
        )

    def channel(self, target: str) -> grpc.Channel:
        options = [
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.keepalive_time_ms", 30_000),
            # Reconnect within seconds of a server's return (the default backoff grows to 120 s).
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 2_000),
        ]
        if not self.tls:
            return grpc.insecure_channel(target, options=options)
        roots = None
        if self.ca_file:
            with open(self.ca_file, "rb") as f:
                roots = f.read()
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=roots), options)

    def metadata(self, extra: Sequence[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
        """Call metadata for every request: credentials first, then ``extra``."""
        pairs = (("authorization", self.authorization),) if self.authorization else ()
        return (*pairs, *extra)


def _authorization(env: Mapping[str, str]) -> str | None:
    token = env.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return f"Bearer {token}"
    user, password = env.get("MLFLOW_TRACKING_USERNAME"), env.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    return None


def backoff_delays(budget: float, *, first: float = 0.1, cap: float = 5.0) -> Iterator[float]:
    """Sleep lengths for successive retries (full jitter), ending when ``budget`` seconds are spent."""
    deadline = time.monotonic() + budget
    delay = first
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        yield min(left, random.uniform(0, delay))
        delay = min(cap, delay * 2)


def call(
    endpoint: Endpoint,
    method: Callable[..., _Resp],
    request: Any,
    *,
    extra_metadata: Sequence[tuple[str, str]] = (),
    retry: bool = True,
) -> _Resp:
    """One unary call, retried on transient failures; raises ``RunstashError`` otherwise."""
    delays = backoff_delays(endpoint.retry_budget) if retry else iter(())
    while True:
        try:
            return method(request, timeout=endpoint.timeout, metadata=endpoint.metadata(extra_metadata))
        except grpc.RpcError as error:
            if error.code() not in TRANSIENT:
                raise from_rpc_error(error) from None
            pause = next(delays, None)
            if pause is None:
                raise from_rpc_error(error) from None
            time.sleep(pause)
