"""The logged-model RPCs of the metadata servicer (MLflow 3's ``/logged-models`` endpoints).

A part of :class:`~runstash_metadata.servicer.MetadataServicer`, kept apart so that each module
stays one resource: validate, open the transaction, call :mod:`~runstash_metadata.store.logged_models`.
"""

from __future__ import annotations

from typing import Any

from runstash_protos import metadata_pb2 as pb

from runstash_metadata import validation as v
from runstash_metadata.present_empty import present_empty_fields
from runstash_metadata.store import logged_models
from runstash_metadata.store.database import Database

DEFAULT_LOGGED_MODELS_RESULTS = 50


def pairs(items: Any) -> list[tuple[str, str]]:
    """``(key, value)`` of repeated key/value messages (params, tags)."""
    return [(item.key, item.value) for item in items]


class LoggedModelRpcs:
    """The logged-model methods of the metadata servicer; the servicer provides ``db``."""

    db: Database

    def CreateLoggedModel(self, request: pb.CreateLoggedModel, context: Any) -> pb.CreateLoggedModel.Response:
        v.check_create_logged_model(request)
        with self.db.transaction() as conn:
            model = logged_models.create_logged_model(
                conn,
                self.db.q,
                v.parse_experiment_id(request.experiment_id),
                name=request.name or None,
                model_type=request.model_type,
                source_run_id=request.source_run_id,
                params=pairs(request.params),
                tags=pairs(request.tags),
            )
        return pb.CreateLoggedModel.Response(model=model)

    def GetLoggedModel(self, request: pb.GetLoggedModel, context: Any) -> pb.GetLoggedModel.Response:
        v.check_get_logged_model(request)
        with self.db.reader() as conn:
            model = logged_models.get_logged_model(
                conn, request.model_id, allow_deleted=request.allow_deleted
            )
        return pb.GetLoggedModel.Response(model=model)

    def FinalizeLoggedModel(
        self, request: pb.FinalizeLoggedModel, context: Any
    ) -> pb.FinalizeLoggedModel.Response:
        v.check_finalize_logged_model(request)
        with self.db.transaction() as conn:
            model = logged_models.finalize_logged_model(conn, request.model_id, request.status)
        return pb.FinalizeLoggedModel.Response(model=model)

    def DeleteLoggedModel(self, request: pb.DeleteLoggedModel, context: Any) -> pb.DeleteLoggedModel.Response:
        v.check_delete_logged_model(request)
        with self.db.transaction() as conn:
            logged_models.delete_logged_model(conn, request.model_id)
        return pb.DeleteLoggedModel.Response()

    def SearchLoggedModels(
        self, request: pb.SearchLoggedModels, context: Any
    ) -> pb.SearchLoggedModels.Response:
        v.check_search_logged_models(request, present_empty_fields(context))
        with self.db.reader() as conn:
            models, token = logged_models.search_logged_models(
                conn,
                v.parse_experiment_ids(request.experiment_ids),
                filter_string=request.filter,
                datasets=list(request.datasets),
                max_results=request.max_results or DEFAULT_LOGGED_MODELS_RESULTS,
                order_by=list(request.order_by),
                page_token=request.page_token or None,
            )
        return pb.SearchLoggedModels.Response(models=models, next_page_token=token)

    def SetLoggedModelTags(
        self, request: pb.SetLoggedModelTags, context: Any
    ) -> pb.SetLoggedModelTags.Response:
        v.check_set_logged_model_tags(request)
        with self.db.transaction() as conn:
            logged_models.set_logged_model_tags(conn, self.db.q, request.model_id, pairs(request.tags))
        # MLflow 3.18 leaves the optional `model` field of this response empty.
        return pb.SetLoggedModelTags.Response()

    def DeleteLoggedModelTag(
        self, request: pb.DeleteLoggedModelTag, context: Any
    ) -> pb.DeleteLoggedModelTag.Response:
        v.check_delete_logged_model_tag(request)
        with self.db.transaction() as conn:
            logged_models.delete_logged_model_tag(conn, request.model_id, request.tag_key)
        return pb.DeleteLoggedModelTag.Response()

    def LogLoggedModelParams(
        self, request: pb.LogLoggedModelParams, context: Any
    ) -> pb.LogLoggedModelParams.Response:
        v.check_log_logged_model_params(request)
        with self.db.transaction() as conn:
            logged_models.log_logged_model_params(conn, self.db.q, request.model_id, pairs(request.params))
        return pb.LogLoggedModelParams.Response()
