"""The view_type filter (ACTIVE_ONLY / DELETED_ONLY / ALL) on a lifecycle_stage column."""

from __future__ import annotations

from typing import Any

from runstash_protos import metadata_pb2 as pb
from sqlalchemy.sql.elements import ColumnElement

from runstash_metadata.store.schema import ACTIVE, DELETED


def lifecycle_condition(column: ColumnElement[Any], view_type: int | None) -> ColumnElement[bool] | None:
    """None for ALL; unset or unknown view types mean ACTIVE_ONLY, as on the MLflow server."""
    if view_type == pb.ALL:
        return None
    if view_type == pb.DELETED_ONLY:
        return column == DELETED
    return column == ACTIVE
