"""``runstash.registry.ModelRegistryService``: validate, run the store functions in one
transaction, announce the event after the commit (webhooks), shape the response.

Errors are :class:`~runstash_protos.errors.RunstashError`, as in the metadata servicer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runstash_protos import registry_pb2 as pb
from runstash_protos import registry_pb2_grpc
from runstash_protos.errors import invalid_parameter, not_found

from runstash_metadata.registry import events as ev
from runstash_metadata.registry import models, search, versions
from runstash_metadata.registry import validation as v
from runstash_metadata.registry.sources import check_prompt_source, check_source
from runstash_metadata.registry.webhook_rpcs import WebhookRpcs
from runstash_metadata.registry.webhooks.delivery import Deliverer
from runstash_metadata.store.database import Database
from runstash_metadata.validation_common import type_error_message

MODELS_DEFAULT_RESULTS = 100
MODELS_MAX_RESULTS = 1000
VERSIONS_MAX_RESULTS = 200_000


def _pairs(items: Any) -> list[tuple[str, str]]:
    return [(item.key, item.value) for item in items]


def _optional(request: Any, field: str) -> str | None:
    return getattr(request, field) if request.HasField(field) else None


class ModelRegistryServicer(WebhookRpcs, registry_pb2_grpc.ModelRegistryServiceServicer):
    """Every registry RPC over one database; ``trusted_roots`` bound where sources may point."""

    def __init__(self, db: Database, trusted_roots: Sequence[str]) -> None:
        super().__init__(db, Deliverer(db))
        self.db = db
        self.trusted_roots = tuple(root for root in trusted_roots if root)
        self.sink: ev.EventSink = self.deliverer

    def close(self) -> None:
        """Stop the webhook workers (pending deliveries are abandoned)."""
        self.deliverer.close()

    def _publish(self, event: ev.RegistryEvent | None) -> None:
        if event is not None:
            self.sink.publish(event)

    # ------------------------------------------------------------------ registered models

    def CreateRegisteredModel(
        self, request: pb.CreateRegisteredModel, context: Any
    ) -> pb.CreateRegisteredModel.Response:
        v.require_fields(request, "name")
        v.check_model_name(request.name)
        tags = _pairs(request.tags)
        for key, value in tags:
            v.check_tag(key, value)
        prompt = v.is_prompt_tags(tags)
        with self.db.transaction() as conn:
            model = models.create_model(
                conn, self.db.q, request.name, tags, _optional(request, "description"), prompt=prompt
            )
        self._publish(ev.model_created(model, prompt))
        return pb.CreateRegisteredModel.Response(registered_model=model)

    def GetRegisteredModel(
        self, request: pb.GetRegisteredModel, context: Any
    ) -> pb.GetRegisteredModel.Response:
        v.require_fields(request, "name")
        with self.db.reader() as conn:
            return pb.GetRegisteredModel.Response(registered_model=models.get_model(conn, request.name))

    def RenameRegisteredModel(
        self, request: pb.RenameRegisteredModel, context: Any
    ) -> pb.RenameRegisteredModel.Response:
        v.require_fields(request, "name", "new_name")
        v.check_model_name(request.new_name, "new_name")
        with self.db.transaction() as conn:
            model = models.rename_model(conn, self.db.q, request.name, request.new_name)
        return pb.RenameRegisteredModel.Response(registered_model=model)

    def UpdateRegisteredModel(
        self, request: pb.UpdateRegisteredModel, context: Any
    ) -> pb.UpdateRegisteredModel.Response:
        v.require_fields(request, "name")
        with self.db.transaction() as conn:
            model = models.update_model(conn, self.db.q, request.name, _optional(request, "description"))
        return pb.UpdateRegisteredModel.Response(registered_model=model)

    def DeleteRegisteredModel(
        self, request: pb.DeleteRegisteredModel, context: Any
    ) -> pb.DeleteRegisteredModel.Response:
        v.require_fields(request, "name")
        with self.db.transaction() as conn:
            models.delete_model(conn, self.db.q, request.name)
        return pb.DeleteRegisteredModel.Response()

    def SearchRegisteredModels(
        self, request: pb.SearchRegisteredModels, context: Any
    ) -> pb.SearchRegisteredModels.Response:
        max_results = request.max_results if request.HasField("max_results") else MODELS_DEFAULT_RESULTS
        if max_results > MODELS_MAX_RESULTS:
            raise invalid_parameter(type_error_message("max_results", str(max_results)))
        with self.db.reader() as conn:
            found, token = search.search_models(
                conn,
                request.filter or None,
                list(request.order_by),
                max(max_results, 0),
                request.page_token or None,
            )
        return pb.SearchRegisteredModels.Response(registered_models=found, next_page_token=token)

    def GetLatestVersions(self, request: pb.GetLatestVersions, context: Any) -> pb.GetLatestVersions.Response:
        v.require_fields(request, "name")
        stages = [v.canonical_stage(stage) for stage in request.stages]
        with self.db.reader() as conn:
            found = versions.latest_versions(conn, request.name, stages)
        return pb.GetLatestVersions.Response(model_versions=found)

    def SetRegisteredModelTag(
        self, request: pb.SetRegisteredModelTag, context: Any
    ) -> pb.SetRegisteredModelTag.Response:
        v.require_fields(request, "name", "key")
        v.check_tag(request.key, request.value)
        with self.db.transaction() as conn:
            models.set_model_tag(conn, self.db.q, request.name, request.key, request.value)
            prompt = models.is_prompt(conn, request.name)
        data = {"name": request.name, "key": request.key, "value": request.value}
        self._publish(ev.tag_event(prompt, on_version=False, action="set", data=data))
        return pb.SetRegisteredModelTag.Response()

    def DeleteRegisteredModelTag(
        self, request: pb.DeleteRegisteredModelTag, context: Any
    ) -> pb.DeleteRegisteredModelTag.Response:
        v.require_fields(request, "name", "key")
        with self.db.transaction() as conn:
            prompt = models.is_prompt(conn, request.name)
            models.delete_model_tag(conn, self.db.q, request.name, request.key)
        data = {"name": request.name, "key": request.key}
        self._publish(ev.tag_event(prompt, on_version=False, action="deleted", data=data))
        return pb.DeleteRegisteredModelTag.Response()

    # ------------------------------------------------------------------ aliases

    def SetRegisteredModelAlias(
        self, request: pb.SetRegisteredModelAlias, context: Any
    ) -> pb.SetRegisteredModelAlias.Response:
        v.require_fields(request, "name", "alias", "version")
        v.check_alias(request.alias)
        version = v.parse_version(request.version)
        with self.db.transaction() as conn:
            models.set_alias(conn, self.db.q, request.name, request.alias, version)
            prompt = models.is_prompt(conn, request.name)
        data = {"name": request.name, "alias": request.alias, "version": request.version}
        self._publish(ev.alias_event(prompt, "created", data))
        return pb.SetRegisteredModelAlias.Response()

    def DeleteRegisteredModelAlias(
        self, request: pb.DeleteRegisteredModelAlias, context: Any
    ) -> pb.DeleteRegisteredModelAlias.Response:
        v.require_fields(request, "name", "alias")
        with self.db.transaction() as conn:
            models.delete_alias(conn, self.db.q, request.name, request.alias)
            prompt = models.is_prompt(conn, request.name)
        self._publish(ev.alias_event(prompt, "deleted", {"name": request.name, "alias": request.alias}))
        return pb.DeleteRegisteredModelAlias.Response()

    def GetModelVersionByAlias(
        self, request: pb.GetModelVersionByAlias, context: Any
    ) -> pb.GetModelVersionByAlias.Response:
        v.require_fields(request, "name", "alias")
        with self.db.reader() as conn:
            if request.alias.lower() == "latest":
                latest = versions.latest_versions(conn, request.name, [])
                if not latest:
                    raise not_found(f"Latest version not found for model {request.name}.")
                found = max(latest, key=lambda mv: int(mv.version))
            else:
                found = versions.get_version(
                    conn, request.name, models.alias_version(conn, request.name, request.alias)
                )
        return pb.GetModelVersionByAlias.Response(model_version=found)

    # ------------------------------------------------------------------ model versions

    def CreateModelVersion(
        self, request: pb.CreateModelVersion, context: Any
    ) -> pb.CreateModelVersion.Response:
        v.require_fields(request, "name", "source")
        tags = _pairs(request.tags)
        for key, value in tags:
            v.check_tag(key, value)
        prompt = v.is_prompt_tags(tags)
        if prompt:
            check_prompt_source(request.source)
        with self.db.transaction() as conn:
            models.require_model(conn, request.name)
            if prompt:
                checked = None
            else:
                checked = check_source(
                    conn, request.source, request.run_id or None, request.model_id or None, self.trusted_roots
                )
            new = versions.NewVersion(
                name=request.name,
                source=checked.source if checked else request.source,
                storage_location=checked.storage_location if checked else request.source,
                run_id=checked.run_id if checked else (request.run_id or None),
                run_link=_optional(request, "run_link"),
                description=_optional(request, "description"),
                model_id=checked.model_id if checked else None,
                tags=tags,
            )
            created = versions.create_version(conn, self.db.q, new)
        self._publish(ev.version_created(created, prompt))
        return pb.CreateModelVersion.Response(model_version=created)

    def GetModelVersion(self, request: pb.GetModelVersion, context: Any) -> pb.GetModelVersion.Response:
        v.require_fields(request, "name", "version")
        version = v.parse_version(request.version)
        with self.db.reader() as conn:
            return pb.GetModelVersion.Response(
                model_version=versions.get_version(conn, request.name, version)
            )

    def UpdateModelVersion(
        self, request: pb.UpdateModelVersion, context: Any
    ) -> pb.UpdateModelVersion.Response:
        v.require_fields(request, "name", "version")
        version = v.parse_version(request.version)
        with self.db.transaction() as conn:
            found = versions.update_version(
                conn, self.db.q, request.name, version, _optional(request, "description")
            )
        return pb.UpdateModelVersion.Response(model_version=found)

    def TransitionModelVersionStage(
        self, request: pb.TransitionModelVersionStage, context: Any
    ) -> pb.TransitionModelVersionStage.Response:
        v.require_fields(request, "name", "version", "stage")
        version = v.parse_version(request.version)
        stage = v.canonical_stage(request.stage)
        with self.db.transaction() as conn:
            found = versions.transition_stage(
                conn,
                self.db.q,
                request.name,
                version,
                stage=stage,
                archive_existing=request.archive_existing_versions,
            )
        return pb.TransitionModelVersionStage.Response(model_version=found)

    def DeleteModelVersion(
        self, request: pb.DeleteModelVersion, context: Any
    ) -> pb.DeleteModelVersion.Response:
        v.require_fields(request, "name", "version")
        version = v.parse_version(request.version)
        with self.db.transaction() as conn:
            versions.delete_version(conn, self.db.q, request.name, version)
        return pb.DeleteModelVersion.Response()

    def SearchModelVersions(
        self, request: pb.SearchModelVersions, context: Any
    ) -> pb.SearchModelVersions.Response:
        max_results = request.max_results if request.HasField("max_results") else VERSIONS_MAX_RESULTS
        if max_results > VERSIONS_MAX_RESULTS:
            raise invalid_parameter(type_error_message("max_results", str(max_results)))
        v.check_max_results(max_results, VERSIONS_MAX_RESULTS)
        with self.db.reader() as conn:
            found, token = search.search_versions(
                conn, request.filter or None, list(request.order_by), max_results, request.page_token or None
            )
        return pb.SearchModelVersions.Response(model_versions=found, next_page_token=token)

    def GetModelVersionDownloadUri(
        self, request: pb.GetModelVersionDownloadUri, context: Any
    ) -> pb.GetModelVersionDownloadUri.Response:
        v.require_fields(request, "name", "version")
        version = v.parse_version(request.version)
        with self.db.reader() as conn:
            return pb.GetModelVersionDownloadUri.Response(
                artifact_uri=versions.download_uri(conn, request.name, version)
            )

    def SetModelVersionTag(
        self, request: pb.SetModelVersionTag, context: Any
    ) -> pb.SetModelVersionTag.Response:
        v.require_fields(request, "name", "version", "key")
        version = v.parse_version(request.version)
        v.check_tag(request.key, request.value)
        with self.db.transaction() as conn:
            versions.set_version_tag(
                conn, self.db.q, request.name, version, key=request.key, value=request.value
            )
            prompt = models.is_prompt(conn, request.name)
        data = {"name": request.name, "version": request.version, "key": request.key, "value": request.value}
        self._publish(ev.tag_event(prompt, on_version=True, action="set", data=data))
        return pb.SetModelVersionTag.Response()

    def DeleteModelVersionTag(
        self, request: pb.DeleteModelVersionTag, context: Any
    ) -> pb.DeleteModelVersionTag.Response:
        v.require_fields(request, "name", "version", "key")
        version = v.parse_version(request.version)
        with self.db.transaction() as conn:
            versions.delete_version_tag(conn, self.db.q, request.name, version, request.key)
            prompt = models.is_prompt(conn, request.name)
        data = {"name": request.name, "version": request.version, "key": request.key}
        self._publish(ev.tag_event(prompt, on_version=True, action="deleted", data=data))
        return pb.DeleteModelVersionTag.Response()
