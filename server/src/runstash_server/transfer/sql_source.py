"""An MLflow server's database as an import source, read only.

Every connection is made read only before it is used (PostgreSQL and MySQL: the session's
transactions are READ ONLY, so the database itself refuses a write; SQLite: ``query_only``), and
only SELECTs are sent. Records come out in the shapes MLflow's REST API gives them (see
``mlflow/store/tracking/dbmodels/models.py`` of MLflow 3 for the tables), so an import from the
database equals an import from the server. Artifacts live outside the database: ``artifacts``
names where (the server's URL, for its artifact proxy, or its artifacts destination directory).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import make_url

from runstash_server.transfer.source import HISTORY_PAGE, Json
from runstash_server.transfer.sql_artifacts import artifact_reader
from runstash_server.transfer.sql_registry import model_versions, registered_models

_DRIVERS = {"postgresql": "postgresql+psycopg2", "mysql": "mysql+pymysql"}


def read_only_engine(uri: str) -> Any:
    url = make_url(uri)
    if url.drivername in _DRIVERS:
        url = url.set(drivername=_DRIVERS[url.drivername])
    engine = create_engine(url, pool_pre_ping=True)
    backend = url.get_backend_name()

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if backend == "postgresql":
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        elif backend == "mysql":
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
        elif backend == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()
        if backend == "postgresql":
            dbapi_connection.commit()  # psycopg2 opened a transaction for the SET

    return engine


def _rows(conn: Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(sql), params))


def _value(value: float | None, is_nan: bool) -> float:
    return math.nan if is_nan else float(value or 0.0)


def _run_info(row: Any) -> Json:
    info: Json = {
        "run_id": row.run_uuid,
        "run_uuid": row.run_uuid,
        "run_name": row.name or "",
        "experiment_id": str(row.experiment_id),
        "user_id": row.user_id or "",
        "status": row.status,
        "start_time": row.start_time,
        "artifact_uri": row.artifact_uri,
        "lifecycle_stage": row.lifecycle_stage,
    }
    if row.end_time is not None:
        info["end_time"] = row.end_time
    return {k: v for k, v in info.items() if v is not None}


class SqlSource:
    def __init__(self, uri: str, artifacts: str | None) -> None:
        self.engine = read_only_engine(uri)
        self._artifacts = artifact_reader(artifacts)

    def close(self) -> None:
        self.engine.dispose()
        self._artifacts.close()

    def experiments(self) -> list[Json]:
        with self.engine.connect() as conn:
            tags: dict[int, list[Json]] = defaultdict(list)
            for t in _rows(conn, "SELECT experiment_id, key, value FROM experiment_tags ORDER BY key"):
                tags[t.experiment_id].append({"key": t.key, "value": t.value})
            found = _rows(conn, "SELECT * FROM experiments ORDER BY experiment_id")
        return [
            {
                "experiment_id": str(e.experiment_id),
                "name": e.name,
                "artifact_location": e.artifact_location,
                "lifecycle_stage": e.lifecycle_stage,
                "creation_time": e.creation_time,
                "last_update_time": e.last_update_time,
                # MLflow 3.17 has workspaces; older schemas have no such column.
                **({"workspace": e.workspace} if getattr(e, "workspace", None) else {}),
                **({"tags": tags[e.experiment_id]} if tags[e.experiment_id] else {}),
            }
            for e in found
        ]

    def logged_models(self, experiment_ids: list[str]) -> list[Json]:
        from runstash_server.transfer.sql_models import logged_models

        with self.engine.connect() as conn:
            return logged_models(conn, [int(e) for e in experiment_ids])

    def runs(self, experiment_id: str) -> list[Json]:
        eid = int(experiment_id)
        with self.engine.connect() as conn:
            found = _rows(
                conn,
                "SELECT run_uuid, name, experiment_id, user_id, status, start_time, end_time, "
                "artifact_uri, lifecycle_stage FROM runs WHERE experiment_id = :eid "
                "ORDER BY start_time DESC, run_uuid",
                eid=eid,
            )
            parts = _run_parts(conn, eid)
        return [_run(row, parts) for row in found]

    def history(self, run_id: str, key: str) -> Iterator[list[Json]]:
        """One query whose rows are streamed (a server-side cursor where the driver has one),
        handed on a page at a time: the history is never held whole, nor sorted again per page."""
        sql = text("SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid = :rid AND key = :key")
        with self.engine.connect() as conn:
            rows = conn.execution_options(stream_results=True).execute(sql, {"rid": run_id, "key": key})
            while page := rows.fetchmany(HISTORY_PAGE):
                yield [
                    {"key": key, "value": _value(r.value, r.is_nan), "timestamp": r.timestamp, "step": r.step}
                    for r in page
                ]

    def artifact_files(self, rel: str) -> Iterator[tuple[str, int]]:
        return self._artifacts.files(rel)

    def read_artifact(self, path: str) -> Iterator[bytes]:
        return self._artifacts.read(path)

    def registered_models(self) -> list[Json]:
        with self.engine.connect() as conn:
            return registered_models(conn)

    def model_versions(self, name: str) -> list[Json]:
        with self.engine.connect() as conn:
            return model_versions(conn, name)


def _run_parts(conn: Connection, eid: int) -> dict[str, dict[str, list[Json]]]:
    """Params, tags, latest metrics, dataset inputs, model inputs and outputs of an
    experiment's runs, by run id and part: a fixed number of queries per experiment."""
    parts: dict[str, dict[str, list[Json]]] = defaultdict(lambda: defaultdict(list))
    in_exp = "run_uuid IN (SELECT run_uuid FROM runs WHERE experiment_id = :eid)"
    for p in _rows(conn, f"SELECT run_uuid, key, value FROM params WHERE {in_exp} ORDER BY key", eid=eid):
        parts[p.run_uuid]["params"].append({"key": p.key, "value": p.value})
    for t in _rows(conn, f"SELECT run_uuid, key, value FROM tags WHERE {in_exp} ORDER BY key", eid=eid):
        parts[t.run_uuid]["tags"].append({"key": t.key, "value": t.value})
    columns = "run_uuid, key, value, is_nan, timestamp, step"
    latest = f"SELECT {columns} FROM latest_metrics WHERE {in_exp} ORDER BY key"
    for m in _rows(conn, latest, eid=eid):
        point = {"key": m.key, "value": _value(m.value, m.is_nan), "timestamp": m.timestamp, "step": m.step}
        parts[m.run_uuid]["metrics"].append(point)
    from runstash_server.transfer.sql_models import run_inputs_outputs

    run_inputs_outputs(conn, eid, parts)
    return parts


def _run(row: Any, parts: dict[str, dict[str, list[Json]]]) -> Json:
    own = parts.get(row.run_uuid, {})
    data = {k: own[k] for k in ("metrics", "params", "tags") if own.get(k)}
    inputs = {k: own[k] for k in ("dataset_inputs", "model_inputs") if own.get(k)}
    outputs = {"model_outputs": own["model_outputs"]} if own.get("model_outputs") else {}
    return {"info": _run_info(row), "data": data, "inputs": inputs, "outputs": outputs}
