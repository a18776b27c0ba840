"""Search SQL fixtures: one seeded database per kind (SQLite, PostgreSQL, MariaDB).

The database comes from the shared ``database_factory`` (tests/conftest.py: a fresh, randomly
named database, dropped at the end of the session); the tables are the store's own Table objects
(``schema.metadata.create_all``) and the rows are inserted directly with SQLAlchemy Core, so these
tests exercise only the search statements.

Data (experiment 1 is search-grammar.md §5's example set; experiment 2 holds the edge cases):

    exp 1  r-alpha  acc 0.91, loss 0.2;  lr '0.01', model 'rf';  team 'Alpha', `my tag` 'x';
                    FINISHED, start 1000, end 1500, user alice; dataset iris/abc123 (train)
           r-beta   acc 0.75, loss NaN;  lr '0.1', model 'gbm';  team 'beta'; FAILED, start 2000;
                    dataset wine/def456 (eval)
           r-gamma  acc 0.5, `my metric` -1.5; lr '0.01'; no model, no team; RUNNING, start 3000,
                    no end_time; user Alice
           r-delta  (deleted) acc 0.99; lr '0.01'; start 4000
    exp 2  r-eps    start 5000; big +max; model 'RF'; team 'alpha '; note 'a%b_c';
                    sentence 'The quick brown fox jumps'
           r-zeta   start 5000 (tie with r-eps); big -max; model 'rf'; team 'ALPHA'; KILLED;
                    note 'axb_c'; sentence 'the quick brown fox jumps'
           r-eta    start 6000; acc NaN; model 'r_f'; name 'éta'
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from runstash_metadata.search import experiments as exp_search
from runstash_metadata.search import logged_models as lm_search
from runstash_metadata.search import runs as run_search
from runstash_metadata.search.plan import SearchPlan
from runstash_metadata.store import schema
from runstash_protos import metadata_pb2 as pb
from sqlalchemy import Engine, create_engine, insert

NAN = float("nan")
MAX = 1.7976931348623157e308

RUN_IDS = {
    "r-alpha": "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
    "r-beta": "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2",
    "r-gamma": "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3",
    "r-delta": "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4",
    "r-eps": "e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5",
    "r-zeta": "05050505050505050505050505050505",
    "r-eta": "f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6",
}
RUN_NAMES = {v: k for k, v in RUN_IDS.items()}


def _run(
    name: str,
    *,
    experiment_id: int,
    status: str,
    start: int,
    end: int | None = None,
    user: str = "u",
    stage: str = schema.ACTIVE,
    run_name: str | None = None,
) -> dict[str, Any]:
    return {
        "run_uuid": RUN_IDS[name],
        "name": run_name or name,
        "experiment_id": experiment_id,
        "user_id": user,
        "status": status,
        "start_time": start,
        "end_time": end,
        "lifecycle_stage": stage,
        "artifact_uri": f"s3://bucket/{experiment_id}/{RUN_IDS[name]}/artifacts",
        "deleted_time": None,
    }


RUNS = [
    _run("r-alpha", experiment_id=1, status="FINISHED", start=1000, end=1500, user="alice"),
    _run("r-beta", experiment_id=1, status="FAILED", start=2000, end=2600, user="bob"),
    _run("r-gamma", experiment_id=1, status="RUNNING", start=3000, user="Alice"),
    _run("r-delta", experiment_id=1, status="FINISHED", start=4000, end=4100, stage=schema.DELETED),
    _run("r-eps", experiment_id=2, status="FINISHED", start=5000, end=5001, run_name="Eps"),
    _run("r-zeta", experiment_id=2, status="KILLED", start=5000, end=5002),
    _run("r-eta", experiment_id=2, status="FINISHED", start=6000, end=6001, run_name="éta"),
]

METRICS: dict[str, dict[str, float]] = {
    "r-alpha": {"acc": 0.91, "loss": 0.2},
    "r-beta": {"acc": 0.75, "loss": NAN},
    "r-gamma": {"acc": 0.5, "my metric": -1.5},
    "r-delta": {"acc": 0.99},
    "r-eps": {"big": MAX},
    "r-zeta": {"big": -MAX},
    "r-eta": {"acc": NAN},
}
PARAMS: dict[str, dict[str, str]] = {
    "r-alpha": {"lr": "0.01", "model": "rf"},
    "r-beta": {"lr": "0.1", "model": "gbm"},
    "r-gamma": {"lr": "0.01"},
    "r-delta": {"lr": "0.01"},
    "r-eps": {"model": "RF"},
    "r-zeta": {"model": "rf"},
    "r-eta": {"model": "r_f"},
}
TAGS: dict[str, dict[str, str]] = {
    "r-alpha": {"team": "Alpha", "my tag": "x", "mlflow.source.type": "LOCAL"},
    "r-beta": {"team": "beta", "mlflow.source.type": "NOTEBOOK"},
    "r-gamma": {},
    "r-delta": {"team": "Alpha"},
    "r-eps": {"team": "alpha ", "note": "a%b_c", "sentence": "The quick brown fox jumps"},
    "r-zeta": {"team": "ALPHA", "note": "axb_c", "sentence": "the quick brown fox jumps"},
    "r-eta": {},
}
# dataset uuid -> (experiment, name, digest); input -> (dataset, run, context)
DATASETS = {"ds-iris": (1, "iris", "abc123"), "ds-wine": (1, "wine", "def456")}
INPUTS = {"in-1": ("ds-iris", "r-alpha", "train"), "in-2": ("ds-wine", "r-beta", "eval")}

EXPERIMENTS = [
    # id, name, stage, creation_time, last_update_time, tags
    (0, "Default", schema.ACTIVE, 100, 100, {}),
    (1, "search-exp", schema.ACTIVE, 200, 900, {"owner": "alice"}),
    (2, "Other", schema.ACTIVE, 300, 300, {"owner": "Bob", "kind": "x"}),
    (3, "gone", schema.DELETED, 400, 400, {}),
    (4, "default-copy", schema.ACTIVE, 300, 500, {}),
]

MODEL_IDS = ["m-a", "m-b", "m-c", "m-d", "m-e"]
LOGGED_MODELS = [
    # id, experiment, name, status, stage, model_type, source run, creation, last update
    ("m-a", 1, "lm_a", 2, schema.ACTIVE, "sklearn", RUN_IDS["r-alpha"], 100, 150),
    ("m-b", 1, "lm_b", 1, schema.ACTIVE, "xgb", RUN_IDS["r-beta"], 200, 250),
    ("m-c", 1, "lm_c", 3, schema.ACTIVE, None, None, 300, 350),
    ("m-d", 1, "lm_d", 2, schema.DELETED, "sklearn", None, 400, 450),
    ("m-e", 2, "lm_e", 2, schema.ACTIVE, "sklearn", None, 500, 550),
]
# model, name, timestamp, step, value, run, dataset (name, digest) or None
LOGGED_MODEL_METRICS = [
    ("m-a", "acc", 1, 0, 0.5, "r-alpha", ("iris", "abc123")),
    ("m-a", "acc", 2, 0, 0.9, "r-alpha", ("iris", "abc123")),
    ("m-a", "acc", 3, 0, 0.1, "r-alpha", ("wine", "def456")),
    ("m-b", "acc", 1, 0, 0.7, "r-beta", ("wine", "def456")),
    ("m-b", "loss", 1, 0, NAN, "r-beta", None),
    ("m-e", "acc", 1, 0, 0.99, "r-alpha", None),
]
LOGGED_MODEL_PARAMS = {"m-a": {"depth": "2"}, "m-b": {"depth": "3"}}
LOGGED_MODEL_TAGS = {"m-a": {"stage": "prod"}, "m-b": {"stage": "Prod"}}


def _metric_row(value: float) -> dict[str, Any]:
    nan = math.isnan(value)
    return {"value": 0.0 if nan else value, "is_nan": nan}


def seed(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name in ("mysql", "mariadb"):
            # Experiment 0 ("Default") needs an explicit 0 in an AUTO_INCREMENT column.
            conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
        conn.execute(
            insert(schema.experiments),
            [
                {
                    "experiment_id": i,
                    "name": n,
                    "artifact_location": f"s3://bucket/{i}",
                    "lifecycle_stage": stage,
                    "creation_time": ct,
                    "last_update_time": ut,
                }
                for i, n, stage, ct, ut, _ in EXPERIMENTS
            ],
        )
        conn.execute(
            insert(schema.experiment_tags),
            [
                {"experiment_id": i, "key": k, "value": v}
                for i, *_, tags in EXPERIMENTS
                for k, v in tags.items()
            ],
        )
        conn.execute(insert(schema.runs), RUNS)
        conn.execute(
            insert(schema.latest_metrics),
            [
                {"run_uuid": RUN_IDS[r], "key": k, "timestamp": 1, "step": 0, **_metric_row(v)}
                for r, ms in METRICS.items()
                for k, v in ms.items()
            ],
        )
        conn.execute(
            insert(schema.params),
            [
                {"run_uuid": RUN_IDS[r], "key": k, "value": v}
                for r, ps in PARAMS.items()
                for k, v in ps.items()
            ],
        )
        run_name_tags = [
            {"run_uuid": r["run_uuid"], "key": "mlflow.runName", "value": r["name"]} for r in RUNS
        ]
        conn.execute(
            insert(schema.tags),
            [{"run_uuid": RUN_IDS[r], "key": k, "value": v} for r, ts in TAGS.items() for k, v in ts.items()]
            + run_name_tags,
        )
        conn.execute(
            insert(schema.datasets),
            [
                {
                    "dataset_uuid": u,
                    "experiment_id": e,
                    "name": n,
                    "digest": d,
                    "dataset_source_type": "local",
                    "dataset_source": "{}",
                }
                for u, (e, n, d) in DATASETS.items()
            ],
        )
        conn.execute(
            insert(schema.inputs),
            [
                {
                    "input_uuid": i,
                    "source_type": schema.INPUT_SOURCE_DATASET,
                    "source_id": ds,
                    "destination_type": schema.INPUT_DESTINATION_RUN,
                    "destination_id": RUN_IDS[r],
                }
                for i, (ds, r, _) in INPUTS.items()
            ],
        )
        conn.execute(
            insert(schema.input_tags),
            [{"input_uuid": i, "name": "mlflow.data.context", "value": c} for i, (_, _, c) in INPUTS.items()],
        )
        conn.execute(
            insert(schema.logged_models),
            [
                {
                    "model_id": m,
                    "experiment_id": e,
                    "name": n,
                    "artifact_location": f"s3://bucket/{e}/models/{m}",
                    "status": st,
                    "lifecycle_stage": stage,
                    "model_type": mt,
                    "source_run_id": src,
                    "creation_timestamp_ms": ct,
                    "last_updated_timestamp_ms": ut,
                }
                for m, e, n, st, stage, mt, src, ct, ut in LOGGED_MODELS
            ],
        )
        experiment_of = {m[0]: m[1] for m in LOGGED_MODELS}
        conn.execute(
            insert(schema.logged_model_metrics),
            [
                {
                    "model_id": m,
                    "metric_name": k,
                    "metric_timestamp_ms": ts,
                    "metric_step": step,
                    "metric_value": 0.0 if math.isnan(v) else v,
                    "is_nan": math.isnan(v),
                    "experiment_id": experiment_of[m],
                    "run_id": RUN_IDS[r],
                    "dataset_uuid": None,
                    "dataset_name": ds[0] if ds else None,
                    "dataset_digest": ds[1] if ds else None,
                }
                for m, k, ts, step, v, r, ds in LOGGED_MODEL_METRICS
            ],
        )
        conn.execute(
            insert(schema.logged_model_params),
            [
                {"model_id": m, "experiment_id": experiment_of[m], "param_key": k, "param_value": v}
                for m, ps in LOGGED_MODEL_PARAMS.items()
                for k, v in ps.items()
            ],
        )
        conn.execute(
            insert(schema.logged_model_tags),
            [
                {"model_id": m, "experiment_id": experiment_of[m], "tag_key": k, "tag_value": v}
                for m, ts in LOGGED_MODEL_TAGS.items()
                for k, v in ts.items()
            ],
        )


def engine_for(database: Any) -> Engine:
    uri = database.sqlalchemy_uri
    if database.kind == "mysql":
        uri += "?charset=utf8mb4"
    return create_engine(uri)


def fetch(engine: Engine, plan: SearchPlan) -> list[Any]:
    """Every primary key of the plan's page, in order (up to max_results + 1). A tiered plan
    (an order led by a metric) must give exactly what its single statement gives."""
    with engine.connect() as conn:
        keys = [row[0] for row in plan.page_keys(lambda statement: conn.execute(statement).all())]
        if plan.tiers:
            assert keys == [row[0] for row in conn.execute(plan.statement)]
        return keys


@dataclass
class SearchDb:
    """The seeded database plus one call per search, answering with readable names."""

    engine: Engine
    kind: str

    def run_page(
        self,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] = (),
        experiment_ids: Sequence[int] = (1,),
        view_type: int = pb.ACTIVE_ONLY,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> tuple[list[str], str | None]:
        plan = run_search.plan(
            list(experiment_ids), filter_string, view_type, list(order_by), max_results, page_token
        )
        ids = fetch(self.engine, plan)
        return [RUN_NAMES[i] for i in ids[:max_results]], plan.next_page_token(len(ids))

    def runs(self, filter_string: str | None = None, order_by: Sequence[str] = (), **kw: Any) -> list[str]:
        return self.run_page(filter_string=filter_string, order_by=order_by, **kw)[0]

    def experiment_page(
        self,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] = (),
        view_type: int = pb.ACTIVE_ONLY,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> tuple[list[int], str | None]:
        plan = exp_search.plan(filter_string, view_type, list(order_by), max_results, page_token)
        ids = fetch(self.engine, plan)
        return [int(i) for i in ids[:max_results]], plan.next_page_token(len(ids))

    def experiments(
        self, filter_string: str | None = None, order_by: Sequence[str] = (), **kw: Any
    ) -> list[int]:
        return self.experiment_page(filter_string=filter_string, order_by=order_by, **kw)[0]

    def model_page(
        self,
        *,
        filter_string: str | None = None,
        order_by: Sequence[pb.SearchLoggedModels.OrderBy] = (),
        datasets: Sequence[pb.SearchLoggedModels.Dataset] = (),
        experiment_ids: Sequence[str] = ("1",),
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> tuple[list[str], str | None]:
        plan = lm_search.plan(
            list(experiment_ids), filter_string, list(datasets), list(order_by), max_results, page_token
        )
        ids = fetch(self.engine, plan)
        return [str(i) for i in ids[: plan.max_results]], plan.next_page_token(len(ids))

    def models(self, filter_string: str | None = None, **kw: Any) -> list[str]:
        return self.model_page(filter_string=filter_string, **kw)[0]


@pytest.fixture(scope="session")
def search_db(db_kind: str, database_factory: Any) -> Iterator[SearchDb]:
    """A seeded database of the parametrized kind, shared by the search tests (read-only)."""
    engine = engine_for(database_factory.create(db_kind))
    schema.metadata.create_all(engine)
    seed(engine)
    yield SearchDb(engine, db_kind)
    engine.dispose()
