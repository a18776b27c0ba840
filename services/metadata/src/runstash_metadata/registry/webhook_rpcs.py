"""The webhook RPCs of the registry servicer (mlflow-registry.md §10.1)."""

from __future__ import annotations

from typing import Any

from runstash_protos import registry_pb2 as pb
from runstash_protos.errors import invalid_parameter

from runstash_metadata.registry.validation import require_fields
from runstash_metadata.registry.webhooks import rules, store
from runstash_metadata.registry.webhooks.delivery import Deliverer, example_event
from runstash_metadata.store.database import Database

_DEFAULT_RESULTS = 100
_MAX_RESULTS = 1000


def _status(request: Any) -> str | None:
    if not request.HasField("status"):
        return None
    if request.status == pb.WEBHOOK_STATUS_UNSPECIFIED:
        raise invalid_parameter("Invalid webhook status. Valid values are: ACTIVE, DISABLED.")
    return pb.WebhookStatus.Name(request.status)


class WebhookRpcs:
    """Mixed into the registry servicer; ``deliverer`` sends and is closed by the servicer."""

    def __init__(self, db: Database, deliverer: Deliverer) -> None:
        self._webhook_db = db
        self.deliverer = deliverer

    def CreateWebhook(self, request: pb.CreateWebhook, context: Any) -> pb.CreateWebhook.Response:
        require_fields(request, "name", "url", "events")
        rules.check_name(request.name)
        rules.check_url(request.url)
        fields = store.WebhookFields(
            name=request.name,
            description=request.description if request.HasField("description") else None,
            url=request.url,
            events=rules.event_names(request.events),
            secret=self.deliverer.secrets.seal(request.secret) if request.secret else None,
            status=_status(request),
        )
        with self._webhook_db.transaction() as conn:
            return pb.CreateWebhook.Response(webhook=store.create_webhook(conn, fields))

    def ListWebhooks(self, request: pb.ListWebhooks, context: Any) -> pb.ListWebhooks.Response:
        max_results = request.max_results if request.HasField("max_results") else _DEFAULT_RESULTS
        if not 1 <= max_results <= _MAX_RESULTS:
            raise invalid_parameter(f"max_results must be between 1 and {_MAX_RESULTS}, got {max_results}.")
        with self._webhook_db.reader() as conn:
            found, token = store.list_webhooks(conn, max_results, request.page_token or None)
        return pb.ListWebhooks.Response(webhooks=found, next_page_token=token)

    def _sealed(self, secret: str) -> str:
        return self.deliverer.secrets.seal(secret) if secret else ""  # "" removes the secret

    def GetWebhook(self, request: pb.GetWebhook, context: Any) -> pb.GetWebhook.Response:
        require_fields(request, "webhook_id")
        with self._webhook_db.reader() as conn:
            return pb.GetWebhook.Response(webhook=store.get_webhook(conn, request.webhook_id))

    def UpdateWebhook(self, request: pb.UpdateWebhook, context: Any) -> pb.UpdateWebhook.Response:
        require_fields(request, "webhook_id")
        if request.HasField("name"):
            rules.check_name(request.name)
        if request.HasField("url"):
            rules.check_url(request.url)
        fields = store.WebhookFields(
            name=request.name if request.HasField("name") else None,
            description=request.description if request.HasField("description") else None,
            url=request.url if request.HasField("url") else None,
            events=rules.event_names(request.events) if request.events else None,
            secret=self._sealed(request.secret) if request.HasField("secret") else None,
            status=_status(request),
        )
        with self._webhook_db.transaction() as conn:
            return pb.UpdateWebhook.Response(webhook=store.update_webhook(conn, request.webhook_id, fields))

    def DeleteWebhook(self, request: pb.DeleteWebhook, context: Any) -> pb.DeleteWebhook.Response:
        require_fields(request, "webhook_id")
        with self._webhook_db.transaction() as conn:
            store.delete_webhook(conn, request.webhook_id)
        return pb.DeleteWebhook.Response()

    def TestWebhook(self, request: pb.TestWebhook, context: Any) -> pb.TestWebhook.Response:
        require_fields(request, "webhook_id")
        with self._webhook_db.reader() as conn:
            webhook = store.get_webhook(conn, request.webhook_id)
            url, secret = store.webhook_secret(conn, request.webhook_id)
        chosen = request.event if request.HasField("event") else webhook.events[0]
        (entity, action), *_ = rules.event_names([chosen])
        target = store.Target(request.webhook_id, url, secret)
        try:
            outcome = self.deliverer.test(target, example_event(entity, action))
        except Exception as exc:  # MLflow reports any failure in the result, not as an error
            return pb.TestWebhook.Response(
                result=pb.WebhookTestResult(success=False, error_message=f"Failed to test webhook: {exc}")
            )
        result = pb.WebhookTestResult(success=outcome.success)
        if outcome.status is not None:
            result.response_status = outcome.status
            result.response_body = outcome.body or ""
        if outcome.error:
            result.error_message = f"Failed to test webhook: {outcome.error}"
        return pb.TestWebhook.Response(result=result)
