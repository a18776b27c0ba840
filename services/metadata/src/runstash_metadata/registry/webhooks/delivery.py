"""Webhook deliveries off the request path: a bounded queue and worker threads owned by the
registry servicer (``close()`` stops them). A slow or dead receiver costs a worker, never an API
call; when the queue is full the event is dropped and logged.

Each delivery is signed as MLflow signs it (HMAC-SHA256 over ``<id>.<timestamp>.<body>``, Base64,
``X-MLflow-Signature: v1,<sig>``), retried on 429/5xx and connection errors with exponential
backoff (``Retry-After`` honoured, capped, jittered; the same id, timestamp and signature are
resent), and recorded in ``webhook_deliveries`` with its final outcome.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import logging
import os
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from runstash_metadata.registry.events import RegistryEvent
from runstash_metadata.registry.webhooks import store
from runstash_metadata.registry.webhooks.sealing import SecretBox, UnreadableSecret
from runstash_metadata.registry.webhooks.transport import RefusedDestination, Response, post
from runstash_metadata.store.database import Database

log = logging.getLogger("runstash.registry.webhooks")

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_BACKOFF_CAP_S = 60.0
QUEUE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Settings:
    timeout: float
    max_retries: int
    backoff_factor: float
    workers: int

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            timeout=float(os.environ.get("MLFLOW_WEBHOOK_REQUEST_TIMEOUT", "30")),
            max_retries=int(os.environ.get("MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES", "3")),
            backoff_factor=1.0,
            workers=max(1, min(int(os.environ.get("MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS", "2")), 10)),
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    success: bool
    attempts: int
    status: int | None = None
    body: str | None = None
    error: str | None = None


def payload(event: RegistryEvent) -> bytes:
    timestamp = datetime.datetime.now(datetime.UTC).isoformat()
    document = {"entity": event.entity, "action": event.action, "timestamp": timestamp, "data": event.data}
    return json.dumps(document).encode("utf-8")


def signed_headers(body: bytes, secret: str | None) -> dict[str, str]:
    delivery_id = str(uuid.uuid4())
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": timestamp,
    }
    if secret:
        signed = f"{delivery_id}.{timestamp}.".encode() + body
        digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()
        headers["X-MLflow-Signature"] = "v1," + base64.b64encode(digest).decode("ascii")
    return headers


class Deliverer:
    """The event sink of the registry servicer when webhooks are on."""

    def __init__(
        self, db: Database, settings: Settings | None = None, secrets: SecretBox | None = None
    ) -> None:
        self._db = db
        self.settings = settings or Settings.from_env()
        self.secrets = secrets or SecretBox.from_env()
        self._queue: queue.Queue[RegistryEvent | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def publish(self, event: RegistryEvent) -> None:
        if self._closed.is_set():
            return
        self._start()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            log.warning("webhook queue full: dropped %s.%s event", event.entity, event.action)

    def _start(self) -> None:
        with self._lock:
            if self._threads:
                return
            for i in range(self.settings.workers):
                thread = threading.Thread(target=self._work, name=f"webhooks-{i}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def close(self, timeout: float = 5.0) -> None:
        self._closed.set()
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break
        for thread in threads:
            thread.join(timeout)

    def _work(self) -> None:
        while not self._closed.is_set():
            event = self._queue.get()
            if event is None:
                return
            try:
                with self._db.reader() as conn:
                    targets = store.subscribed(conn, event.entity, event.action)
                for target in targets:
                    if self._closed.is_set():
                        return
                    self.deliver(target, event)
            except Exception:  # a delivery failure must never kill the worker
                log.exception("webhook delivery for %s.%s failed", event.entity, event.action)

    def deliver(self, target: store.Target, event: RegistryEvent, *, record: bool = True) -> Outcome:
        body = payload(event)
        try:
            headers = signed_headers(body, self.secrets.open(target.secret))
        except UnreadableSecret as exc:
            # Never sent unsigned: the receiver would trust nothing, or the wrong thing.
            headers, outcome = signed_headers(body, None), Outcome(False, 0, error=str(exc))
        else:
            outcome = self._send(target.url, body, headers)
        if record:
            with self._db.transaction() as conn:
                store.record_delivery(
                    conn,
                    delivery_id=headers["X-MLflow-Delivery-Id"],
                    webhook_id=target.webhook_id,
                    event=(event.entity, event.action),
                    attempts=outcome.attempts,
                    status=outcome.status,
                    error=outcome.error,
                )
        return outcome

    def _send(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        attempts = 0
        while True:
            attempts += 1
            response: Response | None = None
            error: str | None = None
            try:
                response = post(url, body, headers, self.settings.timeout)
            except RefusedDestination as exc:
                return Outcome(False, attempts, error=str(exc))
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if response is not None and response.status not in _RETRY_STATUSES:
                return Outcome(response.status < 400, attempts, response.status, response.body)
            if attempts > self.settings.max_retries or self._closed.is_set():
                if response is not None:
                    return Outcome(False, attempts, response.status, response.body)
                return Outcome(False, attempts, error=error)
            self._closed.wait(self._backoff(attempts, response))

    def _backoff(self, attempts: int, response: Response | None) -> float:
        if response is not None and response.retry_after is not None:
            return min(response.retry_after, _BACKOFF_CAP_S)
        delay: float = self.settings.backoff_factor * 2.0 ** (attempts - 1)
        jitter: float = random.uniform(0, 1)
        return min(delay, _BACKOFF_CAP_S) + jitter

    def test(self, target: store.Target, event: RegistryEvent) -> Outcome:
        """The synchronous delivery of the test endpoint (not recorded)."""
        return self.deliver(target, event, record=False)


def example_event(entity: str, action: str) -> RegistryEvent:
    """The example payload the test endpoint sends for an event (MLflow's shapes)."""
    data: dict[str, Any]
    if entity in ("registered_model", "prompt"):
        data = {
            "name": "example_model",
            "tags": {"example_key": "example_value"},
            "description": "An example",
        }
    elif entity == "model_version":
        data = {
            "name": "example_model",
            "version": "1",
            "source": "models:/123",
            "run_id": "abcd1234abcd5678",
            "tags": {"example_key": "example_value"},
            "description": "An example model version",
        }
    elif entity == "prompt_version":
        data = {
            "name": "example_prompt",
            "version": "1",
            "template": "Hello {{name}}",
            "tags": {},
            "description": None,
        }
    elif entity.endswith("_tag"):
        data = {"name": "example_model", "version": "1", "key": "example_key"}
        if action == "set":
            data["value"] = "example_value"
    elif entity.endswith("_alias"):
        data = {"name": "example_model", "alias": "example_alias"}
        if action == "created":
            data["version"] = "1"
    else:
        data = {}
    return RegistryEvent(entity, action, data)
