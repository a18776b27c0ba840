"""Seeded fuzzing of the tracking routes' JSON bodies and query strings.

hypothesis is not installed in .venv (requested in the security report), so the generator is a
seeded ``random.Random``: ``RUNSTASH_FUZZ_SEED`` (default fixed) reproduces a run exactly, and
every failure names the seed, the route and the exact request.

Each example starts from a valid request for the route and applies a few mutations: a field gets
a value of another type or a hostile string (SQL-injection shapes, quotes, backticks, NUL, RTL,
huge), a field goes missing, an unknown field appears, or the whole body stops being an object.
For every response:

* never a 5xx (these are all client mistakes, or valid requests);
* a non-200 answer is MLflow JSON ``{"error_code": str, "message": str}``, a 200 is a JSON object;
* a rejected request changed nothing: every table (row count and contents) is the same before and
  after, read directly from the database (outside the server).

Everything runs once per database kind selected (--dbs / RUNSTASH_TEST_DBS).

Search filters, order_by and keys get their own injection checks, on every database kind selected
(--dbs: SQLite, PostgreSQL, MariaDB quote differently): a filter comparing against a value no run
has must match zero runs (an injected ``OR 1=1`` would match them all) or be refused with 400, and
nothing stored changes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import secrets
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy

from tests.security.support import (
    RawResponse,
    checked_json,
    create_experiment,
    create_run,
    is_mlflow_error,
    post_json,
    raw_request,
)

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ServerLauncher

SEED = int(os.environ.get("RUNSTASH_FUZZ_SEED", "20261127"))
# Per route group and database; SQLite gets more (its fingerprint is the cheapest: the suite must
# stay within its time budget on 2 cores). RUNSTASH_FUZZ_EXAMPLES overrides all three.
EXAMPLES = {"sqlite": 100, "postgresql": 25, "mysql": 20}
EXAMPLES_OVERRIDE = os.environ.get("RUNSTASH_FUZZ_EXAMPLES")
# The HTTP layer (h11) refuses request lines over 16 KiB with its own plain-text 400 before the
# app sees them; fuzzed query strings stay below that (test_oversized_url_is_a_clean_4xx covers it).
MAX_QUERY = 8 * 1024

INJECTIONS = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '" OR "1"="1',
    "'; DROP TABLE runs; --",
    "x') UNION SELECT run_uuid, name FROM runs --",
    "`runs`",
    "`; DELETE FROM metrics; `",
    "\\' OR 1=1 #",
    "%' OR 1=1 --",
    "1; SELECT pg_sleep(5)",
    "' || (SELECT sqlite_version()) || '",
    "$$; DROP TABLE experiments; $$",
]
WEIRD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202eRTL",
    "\ufeffbom",
    "💥" * 10,
    "ÿ",
    "\\",
    "%",
    "_",
    "%00",
    "%2e%2e%2f",
    "../../etc/passwd",
    "null",
    "NaN",
    "Infinity",
    "-0",
    "1e999",
    "0x10",
    "9" * 40,
    "\n\r\t",
    "a" * 300,
    "<script>alert(1)</script>",
    "{}",
    "[]",
    "true",
    "\U0001d4ca\U0001d4c3\u2134\u212f",  # mathematical script letters
    "\ud7ff",
]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value of a random type (the server must cope with any of them in any field)."""
    kind = rng.randrange(12 if depth < 2 else 9)
    if kind == 0:
        return rng.choice(INJECTIONS)
    if kind == 1:
        return rng.choice(WEIRD)
    if kind == 2:
        return rng.choice([0, 1, -1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, 7])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e-320, 3.4e38, 1.7976931348623157e308])
    if kind == 4:
        return rng.choice([True, False])
    if kind == 5:
        return None
    if kind == 6:
        return "".join(rng.choice("abc'\"`;%_-./\\ 0123") for _ in range(rng.randrange(1, 30)))
    if kind == 7:
        return rng.choice(
            ["RUNNING", "FINISHED", "FAILED", "KILLED", "ACTIVE_ONLY", "ALL", "DELETED_ONLY", "BOGUS"]
        )
    if kind == 8:
        return "x" * rng.choice([251, 501, 6001, 8001, 20001, 100_000])
    if kind == 9:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if kind == 10:
        return {rng.choice(["key", "value", "a", "step", "name"]): random_value(rng, depth + 1)}
    return [{"key": random_value(rng, depth + 1), "value": random_value(rng, depth + 1)}]


def mutate(rng: random.Random, template: dict[str, Any]) -> Any:
    """One fuzzed body: 1-3 mutations of a valid one (occasionally not an object at all)."""
    if rng.random() < 0.03:
        return rng.choice([[], "text", 1, None, [template], json.dumps(template)])
    body: dict[str, Any] = json.loads(json.dumps(template))
    for _ in range(rng.randint(1, 3)):
        action = rng.random()
        keys = list(body)
        if action < 0.5 and keys:
            key = rng.choice(keys)
            current = body[key]
            if isinstance(current, list) and current and isinstance(current[0], dict) and rng.random() < 0.6:
                item = rng.choice(current)
                if item:
                    item[rng.choice(list(item))] = random_value(rng)
            else:
                body[key] = random_value(rng)
        elif action < 0.75 and keys:
            del body[rng.choice(keys)]
        elif action < 0.9:
            body[rng.choice(["extra", "runId", "experimentId", "__proto__", "constructor", "x" * 50])] = (
                random_value(rng)
            )
        # both spellings of one field, or a camelCase twin
        elif "run_id" in body:
            body["runId"] = random_value(rng)
        elif "experiment_id" in body:
            body["experimentId"] = random_value(rng)
    return body


def query_string(rng: random.Random, template: dict[str, Any]) -> str:
    """A fuzzed query string: values of any kind, repeated keys, raw/encoded junk."""
    pairs: list[tuple[str, str]] = []
    for key, given in template.items():
        if rng.random() < 0.15:
            continue
        value = random_value(rng) if rng.random() < 0.5 else given
        for _ in range(2 if rng.random() < 0.1 else 1):
            pairs.append((key, value if isinstance(value, str) else json.dumps(value)))
    if rng.random() < 0.2:
        pairs.append(
            (rng.choice(["extra", "max_results", "view_type", "page_token"]), str(random_value(rng)))
        )
    encoded = urllib.parse.urlencode(pairs)
    if len(encoded) > MAX_QUERY:
        encoded = encoded[:MAX_QUERY].rsplit("&", 1)[0]
    if rng.random() < 0.1:
        encoded += rng.choice(["&%ff=%fe", "&=&&", "&a", "&%00=%00", "&x=%", "&x=%zz"])
    return encoded


# ---------------------------------------------------------------------------------------------
# the server and the database fingerprint


@dataclass
class World:
    url: str
    db_kind: str
    sqlalchemy_uri: str
    experiment_id: str
    run_id: str
    other_run_id: str
    model_id: str

    def fingerprint(self) -> dict[str, tuple[int, str]]:
        """Row count and content hash of every table, read from the database directly."""
        engine = _engine(self.sqlalchemy_uri)
        with engine.connect() as conn:
            result = {}
            for table in sorted(sqlalchemy.inspect(conn).get_table_names()):
                quoted = engine.dialect.identifier_preparer.quote(table)
                rows = sorted(
                    repr(tuple(row)) for row in conn.execute(sqlalchemy.text(f"SELECT * FROM {quoted}"))
                )
                digest = hashlib.sha256("\n".join(rows).encode("utf-8", "surrogatepass")).hexdigest()
                result[table] = (len(rows), digest)
            return result


_ENGINES: dict[str, sqlalchemy.engine.Engine] = {}


def _engine(uri: str) -> sqlalchemy.engine.Engine:
    if uri not in _ENGINES:
        # NullPool: no connection of ours outlives a fingerprint (the databases are dropped later).
        _ENGINES[uri] = sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)
    return _ENGINES[uri]


@pytest.fixture(scope="module")
def world(
    db_kind: str,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    """One server per database kind (--dbs): SQLite, PostgreSQL and MariaDB fail differently."""
    db = database_factory.create(db_kind)
    server = server_launcher.single(
        db.uri, str(tmp_path_factory.mktemp(f"fuzz-{db_kind}")), label=f"sec-fuzz-{db_kind}"
    )
    try:
        url = server.url
        experiment_id = create_experiment(url, "fuzz")
        run_id = str(create_run(url, experiment_id)["run_id"])
        other_run_id = str(create_run(url, experiment_id)["run_id"])
        checked_json(
            post_json(
                url,
                "/api/2.0/mlflow/runs/log-batch",
                {
                    "run_id": run_id,
                    "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}],
                    "params": [{"key": "p", "value": "v"}],
                    "tags": [{"key": "t", "value": "v"}],
                },
            )
        )
        model = checked_json(
            post_json(url, "/api/2.0/mlflow/logged-models", {"experiment_id": experiment_id})
        )
        model_id = str(model["model"]["info"]["model_id"])
        yield World(url, db_kind, db.sqlalchemy_uri, experiment_id, run_id, other_run_id, model_id)
    finally:
        server_launcher.stop(server)
        engine = _ENGINES.pop(db.sqlalchemy_uri, None)
        if engine is not None:
            engine.dispose()


# ---------------------------------------------------------------------------------------------
# route groups: (method, path, valid template)


@dataclass(frozen=True)
class RouteGroup:
    name: str
    method: str
    path: str
    template: Callable[[World, random.Random], dict[str, Any]]


def _metric(rng: random.Random) -> dict[str, Any]:
    return {
        "key": rng.choice(["m", "loss", "acc"]),
        "value": rng.random(),
        "timestamp": 1,
        "step": rng.randrange(5),
    }


GROUPS = [
    RouteGroup(
        "experiments/create",
        "POST",
        "/api/2.0/mlflow/experiments/create",
        lambda w, r: {"name": f"fz-{r.randrange(10**9)}", "tags": [{"key": "k", "value": "v"}]},
    ),
    RouteGroup(
        "experiments/search",
        "POST",
        "/api/2.0/mlflow/experiments/search",
        lambda w, r: {
            "max_results": 10,
            "filter": "name LIKE 'fz%'",
            "order_by": ["name ASC"],
            "view_type": "ALL",
        },
    ),
    RouteGroup(
        "experiments/set-experiment-tag",
        "POST",
        "/api/2.0/mlflow/experiments/set-experiment-tag",
        lambda w, r: {"experiment_id": w.experiment_id, "key": "k", "value": "v"},
    ),
    RouteGroup(
        "experiments/update",
        "POST",
        "/api/2.0/mlflow/experiments/update",
        lambda w, r: {"experiment_id": w.experiment_id, "new_name": "fuzz"},
    ),
    RouteGroup(
        "runs/create",
        "POST",
        "/api/2.0/mlflow/runs/create",
        lambda w, r: {
            "experiment_id": w.experiment_id,
            "start_time": 1700000000000,
            "run_name": "fz",
            "tags": [{"key": "t", "value": "v"}],
        },
    ),
    RouteGroup(
        "runs/update",
        "POST",
        "/api/2.0/mlflow/runs/update",
        lambda w, r: {"run_id": w.other_run_id, "status": "RUNNING", "end_time": 1700000000001},
    ),
    RouteGroup(
        "runs/log-metric",
        "POST",
        "/api/2.0/mlflow/runs/log-metric",
        lambda w, r: {"run_id": w.run_id, **_metric(r)},
    ),
    RouteGroup(
        "runs/log-parameter",
        "POST",
        "/api/2.0/mlflow/runs/log-parameter",
        lambda w, r: {"run_id": w.run_id, "key": f"p{r.randrange(1000)}", "value": "v"},
    ),
    RouteGroup(
        "runs/set-tag",
        "POST",
        "/api/2.0/mlflow/runs/set-tag",
        lambda w, r: {"run_id": w.run_id, "key": "t", "value": "v"},
    ),
    RouteGroup(
        "runs/log-batch",
        "POST",
        "/api/2.0/mlflow/runs/log-batch",
        lambda w, r: {
            "run_id": w.run_id,
            "metrics": [_metric(r) for _ in range(r.randrange(1, 4))],
            "params": [{"key": "p", "value": "v"}],
            "tags": [{"key": "t", "value": "v"}],
        },
    ),
    RouteGroup(
        "runs/log-inputs",
        "POST",
        "/api/2.0/mlflow/runs/log-inputs",
        lambda w, r: {
            "run_id": w.run_id,
            "datasets": [
                {
                    "dataset": {"name": "d", "digest": "abc", "source_type": "local", "source": "{}"},
                    "tags": [{"key": "mlflow.data.context", "value": "train"}],
                }
            ],
        },
    ),
    RouteGroup(
        "runs/search",
        "POST",
        "/api/2.0/mlflow/runs/search",
        lambda w, r: {
            "experiment_ids": [w.experiment_id],
            "filter": "metrics.m > 0 and params.p = 'v'",
            "run_view_type": "ACTIVE_ONLY",
            "max_results": 10,
            "order_by": ["metrics.m DESC"],
        },
    ),
    RouteGroup(
        "logged-models",
        "POST",
        "/api/2.0/mlflow/logged-models",
        lambda w, r: {"experiment_id": w.experiment_id, "name": "model", "source_run_id": w.run_id},
    ),
    RouteGroup(
        "logged-models/search",
        "POST",
        "/api/2.0/mlflow/logged-models/search",
        lambda w, r: {"experiment_ids": [w.experiment_id], "filter": "name = 'model'", "max_results": 5},
    ),
    RouteGroup(
        "GET runs/get",
        "GET",
        "/api/2.0/mlflow/runs/get",
        lambda w, r: {"run_id": w.run_id},
    ),
    RouteGroup(
        "GET metrics/get-history",
        "GET",
        "/api/2.0/mlflow/metrics/get-history",
        lambda w, r: {"run_id": w.run_id, "metric_key": "m", "max_results": "10"},
    ),
    RouteGroup(
        "GET experiments/get-by-name",
        "GET",
        "/api/2.0/mlflow/experiments/get-by-name",
        lambda w, r: {"experiment_name": "fuzz"},
    ),
    RouteGroup(
        "GET experiments/search",
        "GET",
        "/api/2.0/mlflow/experiments/search",
        lambda w, r: {"max_results": "5", "filter": "name = 'fuzz'", "view_type": "ALL"},
    ),
    RouteGroup(
        "GET get-history-bulk-interval",
        "GET",
        "/api/2.0/mlflow/metrics/get-history-bulk-interval",
        lambda w, r: {
            "run_ids": w.run_id,
            "metric_key": "m",
            "max_results": "5",
            "start_step": "0",
            "end_step": "3",
        },
    ),
]


def _problem(group: RouteGroup, sent: str, response: RawResponse) -> str | None:
    where = f"[seed {SEED}] {group.method} {group.path} {sent[:400]}"
    if response.status >= 500:
        return f"{where}\n  -> 5xx: {response.describe()}"
    if response.status == 200:
        try:
            document = response.json()
        except ValueError:
            return f"{where}\n  -> 200 that is not JSON: {response.describe()}"
        if not isinstance(document, dict):
            return f"{where}\n  -> 200 that is not a JSON object: {response.describe()}"
        return None
    if not is_mlflow_error(response):
        return f"{where}\n  -> error that is not MLflow JSON: {response.describe()}"
    return None


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
def test_fuzzed_requests_never_5xx_and_rejections_change_nothing(world: World, group: RouteGroup) -> None:
    rng = random.Random(f"{SEED}-{group.name}")
    problems: list[str] = []
    examples = int(EXAMPLES_OVERRIDE) if EXAMPLES_OVERRIDE else EXAMPLES[world.db_kind]
    before: dict[str, tuple[int, str]] | None = None  # the DB as of the last accepted request
    for _ in range(examples):
        template = group.template(world, rng)
        if before is None:
            before = world.fingerprint()
        if group.method == "GET":
            sent = f"?{query_string(rng, template)}"
            response = raw_request(world.url, "GET", group.path + sent)
        else:
            body = mutate(rng, template)
            sent = json.dumps(body)
            response = raw_request(
                world.url,
                group.method,
                group.path,
                body=sent.encode("utf-8", "surrogatepass"),
                headers={"Content-Type": "application/json"},
            )
        problem = _problem(group, sent, response)
        if response.status == 200:
            before = None  # accepted: the state may have changed legitimately, re-read next time
        elif problem is None and world.fingerprint() != before:
            problem = (
                f"[seed {SEED}] {group.path} {sent[:400]}\n  -> rejected ({response.status}), DB changed"
            )
        if problem is not None:
            problems.append(problem)
            if len(problems) >= 10:
                break
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# injection in search filters and order_by


FILTER_SHAPES = [
    "params.p = '{v}'",
    "tags.t = '{v}'",
    "attributes.run_name = '{v}'",
    "params.`{v}` = 'v'",
    "tags.`{v}` = 'v'",
    "params.\"{v}\" = 'v'",
    "metrics.`{v}` > -1",
    "params.p LIKE '{v}'",
    "attributes.run_id IN ('{v}')",
    "params.p != 'v' {v}",
]
EXPERIMENT_FILTERS = ["name = '{v}'", "tags.`{v}` = 'x'", "tags.k = '{v}'", "name LIKE '{v}'"]


def _escaped(payload: str, shape: str) -> str:
    """The payload as a literal inside the shape: quotes doubled or backslash-escaped."""
    if "`{v}`" in shape:
        return payload.replace("`", "\\`")
    if '"{v}"' in shape:
        return payload.replace('"', '\\"')
    return payload.replace("\\", "\\\\").replace("'", "\\'")


def _experiment_satisfies(experiment: dict[str, Any], shape: str, payload: str) -> bool:
    """Does this experiment really match ``shape`` with ``payload`` as the literal value?"""
    tags = {t["key"]: t["value"] for t in experiment.get("tags", [])}
    if shape == "name = '{v}'":
        return bool(experiment["name"] == payload)
    if shape == "tags.`{v}` = 'x'":
        return tags.get(payload) == "x"
    if shape == "tags.k = '{v}'":
        return tags.get("k") == payload
    return True  # LIKE patterns: the payloads' % and _ are wildcards, any match may be genuine


@dataclass
class InjectionTarget:
    """A server on one database kind with one experiment of two runs holding none of the payloads."""

    url: str
    db_kind: str
    experiment_id: str
    run_ids: list[str]

    def snapshot(self) -> str:
        """Everything the API shows about the stored data (runs with their data, experiments)."""
        runs = checked_json(
            post_json(
                self.url,
                "/api/2.0/mlflow/runs/search",
                {"experiment_ids": [self.experiment_id], "run_view_type": "ALL", "max_results": 1000},
            )
        ).get("runs", [])
        experiments = checked_json(
            post_json(
                self.url, "/api/2.0/mlflow/experiments/search", {"max_results": 1000, "view_type": "ALL"}
            )
        ).get("experiments", [])
        histories = [
            checked_json(
                raw_request(
                    self.url, "GET", f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=m"
                )
            )
            for run_id in self.run_ids
        ]
        return json.dumps([runs, experiments, histories], sort_keys=True)


@pytest.fixture(scope="module")
def injection_target(world: World) -> InjectionTarget:
    """A fresh experiment on the fuzz server of each database kind (quoting differs per dialect)."""
    url = world.url
    experiment_id = create_experiment(url, f"inject-{secrets.token_hex(4)}")
    run_ids = []
    for _ in range(2):
        run_id = str(create_run(url, experiment_id)["run_id"])
        run_ids.append(run_id)
        checked_json(
            post_json(
                url,
                "/api/2.0/mlflow/runs/log-batch",
                {
                    "run_id": run_id,
                    "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}],
                    "params": [{"key": "p", "value": "v"}],
                    "tags": [{"key": "t", "value": "v"}],
                },
            )
        )
    return InjectionTarget(url, world.db_kind, experiment_id, run_ids)


def test_injection_in_filters_matches_nothing_or_is_refused(injection_target: InjectionTarget) -> None:
    t = injection_target
    url = t.url
    before = t.snapshot()
    problems = []
    for shape in FILTER_SHAPES:
        for payload in INJECTIONS:
            # escaped (a valid string literal), and raw (usually a syntax error)
            for literal in {_escaped(payload, shape), payload}:
                text = shape.replace("{v}", literal)
                response = post_json(
                    url,
                    "/api/2.0/mlflow/runs/search",
                    {"experiment_ids": [t.experiment_id], "filter": text, "run_view_type": "ALL"},
                )
                if response.status == 200:
                    runs = response.json().get("runs", [])
                    # No run holds any payload: a match can only come from injected SQL.
                    if runs and "!=" not in shape:
                        problems.append(f"{text!r} matched {len(runs)} runs (injection?)")
                elif response.status != 400 or not is_mlflow_error(response):
                    problems.append(f"{text!r}: {response.describe()}")
    for shape in EXPERIMENT_FILTERS:
        for payload in INJECTIONS:
            text = shape.replace("{v}", _escaped(payload, shape))
            response = post_json(
                url,
                "/api/2.0/mlflow/experiments/search",
                {"filter": text, "max_results": 1000, "view_type": "ALL"},
            )
            if response.status == 200:
                wrong = [
                    e["name"]
                    for e in response.json().get("experiments", [])
                    if not _experiment_satisfies(e, shape, payload)
                ]
                if wrong:
                    problems.append(
                        f"experiments {text!r} matched non-matching experiments {wrong[:5]} (injection?)"
                    )
            elif response.status != 400 or not is_mlflow_error(response):
                problems.append(f"experiments {text!r}: {response.describe()}")
    assert not problems, f"[{t.db_kind}]\n" + "\n".join(problems)
    assert t.snapshot() == before, "a search changed the stored data"


def test_injection_in_order_by_and_keys_leaves_data_intact(injection_target: InjectionTarget) -> None:
    t = injection_target
    url = t.url
    before = t.snapshot()
    problems = []
    for payload in INJECTIONS:
        for order in (f"metrics.`{payload}` DESC", f"params.{payload}", f"attributes.start_time {payload}"):
            response = post_json(
                url, "/api/2.0/mlflow/runs/search", {"experiment_ids": [t.experiment_id], "order_by": [order]}
            )
            if response.status >= 500 or (response.status != 200 and not is_mlflow_error(response)):
                problems.append(f"order_by {order!r}: {response.describe()}")
    assert t.snapshot() == before, "an order_by changed the stored data"
    # Keys and values are data, never SQL: they are stored verbatim or refused.
    scratch = str(create_run(url, t.experiment_id)["run_id"])
    for payload in INJECTIONS:
        for route, document in (
            ("runs/log-metric", {"key": payload, "value": 1.0, "timestamp": 1, "step": 0}),
            ("runs/log-parameter", {"key": payload, "value": payload}),
            ("runs/set-tag", {"key": payload, "value": payload}),
        ):
            response = post_json(url, f"/api/2.0/mlflow/{route}", {"run_id": scratch, **document})
            if response.status != 200 and (response.status >= 500 or not is_mlflow_error(response)):
                problems.append(f"{route} key {payload!r}: {response.describe()}")
    assert not problems, f"[{t.db_kind}]\n" + "\n".join(problems)
    stored = checked_json(raw_request(url, "GET", f"/api/2.0/mlflow/runs/get?run_id={scratch}"))["run"][
        "data"
    ]
    for item in stored.get("params", []) + stored.get("tags", []):
        if item["key"] in INJECTIONS:
            assert item["value"] == item["key"], item  # verbatim round trip
    # The other runs are untouched (nothing deleted or rewritten by a key).
    runs = checked_json(
        post_json(
            url, "/api/2.0/mlflow/runs/search", {"experiment_ids": [t.experiment_id], "run_view_type": "ALL"}
        )
    )["runs"]
    assert {r["info"]["run_id"] for r in runs} >= set(t.run_ids)
    for run in runs:
        if run["info"]["run_id"] in t.run_ids:
            assert {p["key"]: p["value"] for p in run["data"]["params"]} == {"p": "v"}


def test_oversized_url_is_a_clean_4xx(world: World) -> None:
    """Past the HTTP layer's request-line limit the answer may be plain text, but never a 5xx."""
    for size in (20_000, 200_000, 2_000_000):
        target = f"/api/2.0/mlflow/runs/get?run_id={world.run_id}&pad={'x' * size}"
        try:
            response = raw_request(world.url, "GET", target)
        except ConnectionResetError:
            continue  # the HTTP layer may drop a request line it will not read: also fine
        assert response.status < 500, response.describe()
    assert raw_request(world.url, "GET", "/health").status == 200


def _as_number(value: Any) -> float:
    return float(value) if not isinstance(value, str) else float(value.replace("Infinity", "inf"))


def test_log_batch_stores_hostile_keys_and_values_verbatim(injection_target: InjectionTarget) -> None:
    """Batches may be written with hand-built statements (array literals, multi-row VALUES): keys
    and values full of quoting characters must come back exactly, each under its own key."""
    t = injection_target
    url = t.url
    run_id = str(create_run(url, t.experiment_id)["run_id"])
    keys = ["a b", "x/y:z", "k.1-2_3", " lead", "trail ", "NULL", "null", "a-b", "caf\u00e9", "\u952e"]
    values = [0.1, float("nan"), 5e-324, -0.0, 1.7976931348623157e308, -2.5, 1e-300, 3.0, 7.25, -1e308]
    points = [
        (key, value, 1700000000000 + i, i * 1000)
        for i, (key, value) in enumerate(zip(keys, values, strict=True))
    ]
    metrics = [{"key": k, "value": v, "timestamp": ts, "step": step} for k, v, ts, step in points]
    hostile = ['{"a","b"}', "\\", '\\"', "NULL", "'; DROP TABLE params; --", "a,b", "{}", "line\nbreak", "\t"]
    params = [{"key": f"p{i}", "value": value} for i, value in enumerate(hostile)]
    tags = [{"key": f"t{i}", "value": value} for i, value in enumerate(reversed(hostile))]
    response = post_json(
        url,
        "/api/2.0/mlflow/runs/log-batch",
        {"run_id": run_id, "metrics": metrics, "params": params, "tags": tags},
    )
    assert response.status == 200, f"[{t.db_kind}] {response.describe()}"
    for key, value, timestamp, step in points:
        quoted = urllib.parse.quote(key)
        history = checked_json(
            raw_request(
                url, "GET", f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key={quoted}"
            )
        ).get("metrics", [])
        assert len(history) == 1, (t.db_kind, key, history)
        point = history[0]
        got = _as_number(point["value"])
        assert (math.isnan(got) and math.isnan(value)) or got == value, (t.db_kind, key, value, point)
        assert point["step"] == step and point["timestamp"] == timestamp, (t.db_kind, point)
    data = checked_json(raw_request(url, "GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}"))["run"]["data"]
    assert {p["key"]: p["value"] for p in data.get("params", [])} == {p["key"]: p["value"] for p in params}
    stored_tags = {x["key"]: x["value"] for x in data.get("tags", []) if not x["key"].startswith("mlflow.")}
    assert stored_tags == {x["key"]: x["value"] for x in tags}


@pytest.mark.parametrize(
    "odd",
    ["a\u0000b", "a\ud800b", "\udfff"],
    ids=["nul", "lone-high-surrogate", "lone-low-surrogate"],
)
def test_unstorable_characters_are_stored_or_refused_never_5xx(
    injection_target: InjectionTarget, odd: str
) -> None:
    """A NUL or a lone UTF-16 surrogate (valid JSON escapes, not storable UTF-8 / PostgreSQL text)
    inside any stored string: kept exactly or refused with 400, never an exception from the
    database driver."""
    t = injection_target
    url = t.url
    run_id = str(create_run(url, t.experiment_id)["run_id"])
    nul = odd
    requests: list[tuple[str, dict[str, Any]]] = [
        ("runs/log-batch", {"run_id": run_id, "params": [{"key": "nul-batch", "value": nul}]}),
        ("runs/log-batch", {"run_id": run_id, "tags": [{"key": "nul-batch", "value": nul}]}),
        ("runs/log-parameter", {"run_id": run_id, "key": "nul-param", "value": nul}),
        ("runs/set-tag", {"run_id": run_id, "key": "nul-tag", "value": nul}),
        ("runs/update", {"run_id": run_id, "run_name": nul}),
        ("runs/create", {"experiment_id": t.experiment_id, "run_name": nul}),
        ("experiments/create", {"name": f"nul-{secrets.token_hex(3)}-{nul}"}),
        ("experiments/set-experiment-tag", {"experiment_id": t.experiment_id, "key": "nul", "value": nul}),
        ("logged-models", {"experiment_id": t.experiment_id, "tags": [{"key": "nul", "value": nul}]}),
    ]
    problems = []
    for route, document in requests:
        response = post_json(url, f"/api/2.0/mlflow/{route}", document)
        if response.status != 200 and (response.status >= 500 or not is_mlflow_error(response)):
            problems.append(f"POST /api/2.0/mlflow/{route} {json.dumps(document)}: {response.describe()}")
    # ...and in what reads compare against stored strings.
    encoded = urllib.parse.quote(odd, errors="surrogatepass")
    for target in (
        f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={encoded}",
        f"/api/2.0/mlflow/runs/get?run_id={encoded}",
        f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key={encoded}",
        f"/get-artifact?run_id={run_id}{encoded}&path=a.txt",
    ):
        response = raw_request(url, "GET", target)
        if response.status >= 500 or (response.status != 200 and not is_mlflow_error(response)):
            problems.append(f"GET {target}: {response.describe()}")
    response = post_json(
        url,
        "/api/2.0/mlflow/runs/search",
        {"experiment_ids": [t.experiment_id], "filter": f"params.p = '{nul}'"},
    )
    if response.status >= 500 or (response.status != 200 and not is_mlflow_error(response)):
        problems.append(f"runs/search filter with NUL: {response.describe()}")
    assert not problems, f"[{t.db_kind}]\n" + "\n".join(problems)
    data = checked_json(raw_request(url, "GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}"))["run"]["data"]
    for item in data.get("params", []) + data.get("tags", []):
        if item["key"].startswith("nul"):
            assert item["value"] == nul, item  # stored means stored exactly
