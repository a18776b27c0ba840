"""Webhooks end to end over a real SQLite store and a receiver on 127.0.0.1 (allowed through
MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS in these tests): MLflow's signature, retries, records, the
address guard at create time and at connect time, no redirects, and an API a slow receiver
cannot slow down."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from runstash_metadata.registry.webhooks import addresses, transport
from runstash_metadata.registry.webhooks.delivery import Deliverer, Settings
from runstash_metadata.registry.webhooks.sealing import KEY_ENV, SecretBox
from runstash_metadata.store import schema_registry as r
from runstash_protos import registry_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError
from sqlalchemy import select

from tests.registry.receiver import Receiver, receiver
from tests.registry.support import Registry, open_registry

MV_CREATED = pb.WebhookEvent(entity=pb.MODEL_VERSION, action=pb.CREATED)
ALIAS_CREATED = pb.WebhookEvent(entity=pb.MODEL_VERSION_ALIAS, action=pb.CREATED)


@pytest.fixture
def allow_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "true")
    monkeypatch.setenv("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", "http,https")


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    monkeypatch.setenv(KEY_ENV, Fernet.generate_key().decode())  # secrets are sealed at rest
    for reg in open_registry(tmp_path):
        fast = Deliverer(
            reg.servicer.db, Settings(timeout=5.0, max_retries=3, backoff_factor=0.05, workers=1)
        )
        reg.servicer.deliverer.close()
        reg.servicer.deliverer = reg.servicer.sink = fast
        yield reg


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


def _webhook(reg: Registry, url: str, *events: pb.WebhookEvent, secret: str = "s3cret") -> pb.Webhook:
    request = pb.CreateWebhook(name="hook", url=url, events=list(events), secret=secret)
    return reg.servicer.CreateWebhook(request, None).webhook


def _version(reg: Registry) -> pb.ModelVersion:
    reg.servicer.CreateRegisteredModel(pb.CreateRegisteredModel(name="m"), None)
    request = pb.CreateModelVersion(name="m", source=f"runs:/{reg.run_id}/model", run_id=reg.run_id)
    return reg.servicer.CreateModelVersion(request, None).model_version


def _deliveries(reg: Registry, count: int, timeout: float = 20.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        with reg.servicer.db.reader() as conn:
            rows = [dict(row._mapping) for row in conn.execute(select(r.webhook_deliveries))]
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


@pytest.mark.usefixtures("allow_local")
def test_delivery_is_signed_as_mlflow_signs_it(registry: Registry, hook: Receiver) -> None:
    _webhook(registry, hook.url, MV_CREATED)
    version = _version(registry)
    (got,) = hook.wait_for(1)
    assert got.path == "/hook"
    delivery_id, timestamp = got.headers["X-MLflow-Delivery-Id"], got.headers["X-MLflow-Timestamp"]
    signed = f"{delivery_id}.{timestamp}.".encode() + got.body
    expected = base64.b64encode(hmac.new(b"s3cret", signed, hashlib.sha256).digest()).decode()
    assert got.headers["X-MLflow-Signature"] == f"v1,{expected}"
    document = json.loads(got.body)
    assert document["entity"] == "model_version" and document["action"] == "created"
    assert document["timestamp"].endswith("+00:00")
    assert document["data"] == {
        "name": "m",
        "version": version.version,
        "source": version.source,
        "run_id": registry.run_id,
        "tags": {},
        "description": None,
    }
    (record,) = _deliveries(registry, 1)
    assert (
        record["delivery_id"] == delivery_id and record["response_status"] == 200 and record["attempts"] == 1
    )


@pytest.mark.usefixtures("allow_local")
def test_retries_resend_the_same_signed_delivery(registry: Registry, hook: Receiver) -> None:
    hook.answers = [(503, {}), (429, {"Retry-After": "0"}), (200, {})]
    _webhook(registry, hook.url, MV_CREATED)
    _version(registry)
    got = hook.wait_for(3)
    assert len(got) == 3
    assert (
        len({(g.headers["X-MLflow-Delivery-Id"], g.headers["X-MLflow-Signature"], g.body) for g in got}) == 1
    )
    (record,) = _deliveries(registry, 1)
    assert record["attempts"] == 3 and record["response_status"] == 200


@pytest.mark.usefixtures("allow_local")
def test_a_slow_receiver_never_slows_the_api(registry: Registry, hook: Receiver) -> None:
    hook.delay = 3.0
    _webhook(registry, hook.url, MV_CREATED, ALIAS_CREATED)
    started = time.monotonic()
    _version(registry)
    registry.servicer.SetRegisteredModelAlias(
        pb.SetRegisteredModelAlias(name="m", alias="a", version="1"), None
    )
    assert time.monotonic() - started < 1.5
    assert len(hook.wait_for(2)) == 2


@pytest.mark.usefixtures("allow_local")
def test_redirects_are_not_followed(registry: Registry, hook: Receiver) -> None:
    hook.answers = [(302, {"Location": hook.url + "/elsewhere"})]
    _webhook(registry, hook.url, MV_CREATED)
    _version(registry)
    (record,) = _deliveries(registry, 1)
    assert record["response_status"] == 302
    assert [g.path for g in hook.requests] == ["/hook"]


def test_private_addresses_are_refused_at_create(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", "http,https")
    for url in (
        "https://127.0.0.1/x",
        "https://localhost/x",
        "http://169.254.169.254/latest",
        "https://10.1.2.3/",
    ):
        with pytest.raises(RunstashError, match="must not resolve to a non-public IP address") as raised:
            _webhook(registry, url, MV_CREATED)
        assert raised.value.code is ErrorCode.INVALID_PARAMETER_VALUE
    monkeypatch.delenv("MLFLOW_WEBHOOK_ALLOWED_SCHEMES")
    with pytest.raises(
        RunstashError, match=r"Invalid webhook URL scheme: .http.\. Allowed schemes are: https\."
    ):
        _webhook(registry, "http://example.com/x", MV_CREATED)


def test_delivery_refuses_a_private_address_when_not_allowed(
    registry: Registry, hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "true")
    monkeypatch.setenv("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", "http")
    _webhook(registry, hook.url, MV_CREATED)
    monkeypatch.setenv("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "false")  # e.g. the operator turned it off
    _version(registry)
    (record,) = _deliveries(registry, 1)
    assert record["response_status"] is None and "non-public" in str(record["error_message"])
    assert record["attempts"] == 1  # a refusal is never retried
    assert hook.requests == []


def test_the_connected_peer_is_checked(hook: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the resolution said, the address the socket reached is judged (DNS rebinding)."""
    monkeypatch.delenv("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", raising=False)
    port = int(hook.url.rsplit(":", 1)[1].split("/", 1)[0])
    with pytest.raises(transport.RefusedDestination, match=r"reached a non-public IP address: 127\.0\.0\.1"):
        transport._connect(["127.0.0.1"], port, 5.0)
    assert hook.requests == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("2002:7f00:1::", False),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 around 169.254.169.254
        ("169.254.169.254", False),
        ("fd00:ec2::254", False),
        ("10.0.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_address_guard(address: str, public: bool) -> None:
    assert addresses.is_public(address) is public


@pytest.mark.usefixtures("allow_local")
def test_webhook_crud_and_test_endpoint(registry: Registry, hook: Receiver) -> None:
    created = _webhook(registry, hook.url, MV_CREATED)
    assert created.status == pb.ACTIVE and not created.HasField("description")
    assert "secret" not in str(created)
    listed = registry.servicer.ListWebhooks(pb.ListWebhooks(), None).webhooks
    assert [w.webhook_id for w in listed] == [created.webhook_id]
    updated = registry.servicer.UpdateWebhook(
        pb.UpdateWebhook(webhook_id=created.webhook_id, status=pb.DISABLED, events=[ALIAS_CREATED]), None
    ).webhook
    assert updated.status == pb.DISABLED
    assert [(e.entity, e.action) for e in updated.events] == [(pb.MODEL_VERSION_ALIAS, pb.CREATED)]
    _version(registry)  # disabled, and not subscribed to this event: nothing is sent
    result = registry.servicer.TestWebhook(pb.TestWebhook(webhook_id=created.webhook_id), None).result
    assert result.success and result.response_status == 200
    (got,) = hook.wait_for(1)
    assert json.loads(got.body)["entity"] == "model_version_alias"
    registry.servicer.DeleteWebhook(pb.DeleteWebhook(webhook_id=created.webhook_id), None)
    with pytest.raises(RunstashError, match=f"Webhook with ID {created.webhook_id} not found."):
        registry.servicer.GetWebhook(pb.GetWebhook(webhook_id=created.webhook_id), None)


def test_webhook_validation_messages(registry: Registry) -> None:
    with pytest.raises(RunstashError, match="Webhook name '-bad' is invalid"):
        registry.servicer.CreateWebhook(
            pb.CreateWebhook(name="-bad", url="https://example.com", events=[MV_CREATED]), None
        )
    bad_event = pb.WebhookEvent(entity=pb.MODEL_VERSION, action=pb.DELETED)
    with pytest.raises(RunstashError, match=r"Invalid action 'deleted' for entity 'model_version'"):
        registry.servicer.CreateWebhook(
            pb.CreateWebhook(name="ok", url="https://8.8.8.8/x", events=[bad_event]), None
        )
    with pytest.raises(RunstashError, match="Missing value for required parameter 'events'"):
        registry.servicer.CreateWebhook(pb.CreateWebhook(name="ok", url="https://8.8.8.8/x"), None)


def _stored_secrets(reg: Registry) -> list[str | None]:
    with reg.servicer.db.reader() as conn:
        return [row.secret for row in conn.execute(select(r.webhooks.c.secret))]


@pytest.mark.usefixtures("allow_local")
def test_secrets_are_sealed_at_rest_and_opened_to_sign(registry: Registry, hook: Receiver) -> None:
    created = _webhook(registry, hook.url, MV_CREATED, secret="s3cret-at-rest")
    (stored,) = _stored_secrets(registry)
    assert stored is not None and stored.startswith("fernet:") and "s3cret" not in stored
    key = Fernet(os.environ[KEY_ENV].encode())
    assert key.decrypt(stored.removeprefix("fernet:").encode()) == b"s3cret-at-rest"
    registry.servicer.UpdateWebhook(pb.UpdateWebhook(webhook_id=created.webhook_id, secret="rotated"), None)
    (rotated,) = _stored_secrets(registry)
    assert rotated is not None and rotated != stored and "rotated" not in rotated
    _version(registry)
    (got,) = hook.wait_for(1)
    signed = f"{got.headers['X-MLflow-Delivery-Id']}.{got.headers['X-MLflow-Timestamp']}.".encode() + got.body
    expected = base64.b64encode(hmac.new(b"rotated", signed, hashlib.sha256).digest()).decode()
    assert got.headers["X-MLflow-Signature"] == f"v1,{expected}"


def test_without_a_key_a_secret_is_refused_and_nothing_stored(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    registry.servicer.deliverer = registry.servicer.sink = Deliverer(registry.servicer.db)
    with pytest.raises(RunstashError, match=KEY_ENV) as refused:
        _webhook(registry, "https://8.8.8.8/hook", MV_CREATED)
    assert refused.value.code == ErrorCode.INVALID_PARAMETER_VALUE
    assert _stored_secrets(registry) == []
    plain = _webhook(registry, "https://8.8.8.8/hook", MV_CREATED, secret="")  # no secret: fine
    assert plain.webhook_id and _stored_secrets(registry) == [None]


@pytest.mark.usefixtures("allow_local")
def test_a_secret_sealed_under_another_key_fails_only_its_own_deliveries(
    registry: Registry, hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed = _webhook(registry, hook.url, MV_CREATED)
    monkeypatch.setenv(KEY_ENV, Fernet.generate_key().decode())  # the operator changed the key
    registry.servicer.deliverer.close()
    fast = Settings(timeout=5.0, max_retries=0, backoff_factor=0.05, workers=1)
    registry.servicer.deliverer = registry.servicer.sink = Deliverer(registry.servicer.db, fast)
    unsigned = _webhook(registry, hook.url, MV_CREATED, secret="")
    _version(registry)
    records = {row["webhook_id"]: row for row in _deliveries(registry, 2)}
    assert records[unsigned.webhook_id]["response_status"] == 200
    failed = records[sealed.webhook_id]
    assert failed["response_status"] is None and "sealed with another" in str(failed["error_message"])
    (got,) = hook.wait_for(1)
    assert "X-MLflow-Signature" not in got.headers  # only the webhook without a secret was called


def test_a_malformed_key_stops_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "not-a-fernet-key")
    with pytest.raises(SystemExit, match="not a Fernet key"):
        SecretBox.from_env()
