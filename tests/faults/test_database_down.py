"""The metadata database goes away under a running server (PostgreSQL), then comes back.

The machine's PostgreSQL keeps running: the test's own database is closed to new connections
(``ALTER DATABASE ... ALLOW_CONNECTIONS false``) and its open connections are terminated, as the
superuser. While it is gone, tracking calls must answer quickly with a retryable 5xx in MLflow JSON
(503 TEMPORARILY_UNAVAILABLE is the contract: the stock client retries it); once it is back, the
same server process serves again without a restart. A log-batch cut by a dropped connection is
all-or-nothing.
"""

from __future__ import annotations

import random
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from tests.security.support import (
    RawResponse,
    checked_json,
    create_experiment,
    create_run,
    healthy,
    is_mlflow_error,
    post_json,
    raw_request,
)

if TYPE_CHECKING:
    from tests.conftest import Database, DatabaseFactory, RunningServer, ServerLauncher

pytestmark = pytest.mark.pg

CALL_BOUND_S = 15.0  # no tracking call may hang longer than this while the DB is gone
HUNG_DB_BOUND_S = 30.0  # a database that holds a lock forever: the answer must still come
RECOVERY_BOUND_S = 30.0
RETRYABLE = (502, 503, 504)


@dataclass
class PgServer:
    server: RunningServer
    db: Database
    experiment_id: str
    run_id: str

    @property
    def url(self) -> str:
        return self.server.url


def _admin_connection(db: Database, dbname: str = "postgres", *, autocommit: bool = True) -> Any:
    import psycopg2

    parsed = urllib.parse.urlsplit(db.uri)
    conn = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=urllib.parse.unquote(parsed.username or "postgres"),
        password=urllib.parse.unquote(parsed.password or ""),
        dbname=dbname,
    )
    conn.autocommit = autocommit
    return conn


def _terminate_backends(admin: Any, name: str) -> int:
    with admin.cursor() as cur:
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        row = cur.fetchone()
    return int(row[0]) if row else 0


def _set_connections(admin: Any, name: str, allowed: bool) -> None:
    with admin.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')


@pytest.fixture(scope="module")
def pg_server(
    request: pytest.FixtureRequest,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PgServer]:
    if "postgresql" not in str(request.config.getoption("dbs")).split(","):
        pytest.skip("postgresql not selected (--dbs / RUNSTASH_TEST_DBS)")
    db = database_factory.create("postgresql")
    artifacts = tmp_path_factory.mktemp("fault-db-artifacts")
    server = server_launcher.single(db.uri, str(artifacts), label="fault-db")
    admin = _admin_connection(db)
    try:
        experiment_id = create_experiment(server.url, "db-down")
        run_id = str(create_run(server.url, experiment_id)["run_id"])
        yield PgServer(server, db, experiment_id, run_id)
    finally:
        _set_connections(admin, db.name, True)  # whatever happened, the factory must be able to drop it
        admin.close()
        server_launcher.stop(server)


@pytest.fixture
def admin(pg_server: PgServer) -> Iterator[Any]:
    conn = _admin_connection(pg_server.db)
    try:
        yield conn
    finally:
        _set_connections(conn, pg_server.db.name, True)
        conn.close()


def _calls(s: PgServer) -> dict[str, tuple[str, str, Any]]:
    metric = {"run_id": s.run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0}
    return {
        "runs/get": ("GET", f"/api/2.0/mlflow/runs/get?run_id={s.run_id}", None),
        "experiments/get": ("GET", f"/api/2.0/mlflow/experiments/get?experiment_id={s.experiment_id}", None),
        "runs/search": ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": [s.experiment_id]}),
        "log-metric": ("POST", "/api/2.0/mlflow/runs/log-metric", metric),
        "log-batch": ("POST", "/api/2.0/mlflow/runs/log-batch", {"run_id": s.run_id, "metrics": [metric]}),
        "runs/create": ("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": s.experiment_id}),
        "get-history": ("GET", f"/api/2.0/mlflow/metrics/get-history?run_id={s.run_id}&metric_key=m", None),
    }


def _send(s: PgServer, method: str, target: str, document: Any) -> RawResponse:
    if method == "GET":
        return raw_request(s.url, "GET", target, timeout=CALL_BOUND_S + 5)
    return post_json(s.url, target, document, timeout=CALL_BOUND_S + 5)


def test_database_gone_gives_retryable_json_errors_then_recovers(pg_server: PgServer, admin: Any) -> None:
    s = pg_server
    # Warm the pool, so that the server holds connections that are about to die.
    for method, target, document in _calls(s).values():
        assert _send(s, method, target, document).status == 200

    _set_connections(admin, s.db.name, False)
    _terminate_backends(admin, s.db.name)

    problems = []
    for _round in range(2):  # dead pooled connections first, then refused new ones
        for name, (method, target, document) in _calls(s).items():
            start = time.monotonic()
            response = _send(s, method, target, document)
            took = time.monotonic() - start
            where = f"{name} (DB down): {response.describe()} after {took:.1f} s"
            if took > CALL_BOUND_S:
                problems.append(f"{where}: slower than {CALL_BOUND_S} s")
            if response.status not in RETRYABLE or not is_mlflow_error(response):
                problems.append(f"{where}: expected a retryable 5xx ({RETRYABLE}) in MLflow JSON")
            elif response.status != 503 or response.json()["error_code"] != "TEMPORARILY_UNAVAILABLE":
                problems.append(f"{where}: expected 503 TEMPORARILY_UNAVAILABLE")
    assert healthy(s.url), "the process must stay up while its database is away"

    _set_connections(admin, s.db.name, True)
    deadline = time.monotonic() + RECOVERY_BOUND_S
    while _send(s, *_calls(s)["runs/get"]).status != 200:
        assert time.monotonic() < deadline, "the server did not recover after the database came back"
        time.sleep(0.2)
    for name, (method, target, document) in _calls(s).items():
        response = _send(s, method, target, document)
        assert response.status == 200, f"{name} after recovery: {response.describe()}"
    assert s.server.alive(), "recovered by restarting? the same process must serve again"
    assert not problems, "\n".join(problems)


def test_log_batch_cut_by_dropped_connections_is_all_or_nothing(pg_server: PgServer, admin: Any) -> None:
    s = pg_server
    stop = threading.Event()
    kills = 0

    def killer() -> None:
        # Irregular kills, so that some batches die mid-transaction and some complete.
        nonlocal kills
        rng = random.Random(7)
        conn = _admin_connection(s.db)
        try:
            while not stop.is_set():
                kills += _terminate_backends(conn, s.db.name)
                stop.wait(rng.uniform(0.01, 0.15))
        finally:
            conn.close()

    batches = 24
    outcomes: dict[int, int] = {}
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        for i in range(batches):
            document = {
                "run_id": s.run_id,
                "metrics": [
                    {"key": f"cut{i}", "value": float(step), "timestamp": 1, "step": step}
                    for step in range(1000)
                ],
            }
            response = post_json(s.url, "/api/2.0/mlflow/runs/log-batch", document, timeout=CALL_BOUND_S + 5)
            outcomes[i] = response.status
            if response.status != 200:
                assert response.status >= 500 and is_mlflow_error(response), response.describe()
    finally:
        stop.set()
        thread.join(10)
    assert kills > 0, "the killer never caught a connection: the test proved nothing"
    print(f"log-batch statuses under connection killing: {sorted(outcomes.values())}, kills: {kills}")

    deadline = time.monotonic() + RECOVERY_BOUND_S
    while _send(s, *_calls(s)["runs/get"]).status != 200:
        assert time.monotonic() < deadline, "no recovery after the connection killing stopped"
        time.sleep(0.2)
    partial = {}
    for i in range(batches):
        target = f"/api/2.0/mlflow/metrics/get-history?run_id={s.run_id}&metric_key=cut{i}"
        stored = len(checked_json(_send(s, "GET", target, None)).get("metrics", []))
        if stored not in (0, 1000):
            partial[i] = stored
        elif outcomes[i] == 200:
            assert stored == 1000, f"batch {i} answered 200 but {stored} of 1000 metrics are stored"
    assert not partial, f"batches stored partially (batch: rows): {partial}; statuses {outcomes}"
    # Some batches must have been cut for this to mean anything.
    assert any(status != 200 for status in outcomes.values()), outcomes


def test_hung_database_does_not_hang_requests_forever(pg_server: PgServer) -> None:
    """The database accepts connections but never answers (a lock held by someone else): the
    request must end with a retryable 5xx within a bound, not wait for the lock forever."""
    s = pg_server
    holder = _admin_connection(s.db, s.db.name, autocommit=False)  # in the test database itself
    try:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE")
        start = time.monotonic()
        try:
            response = raw_request(
                s.url, "GET", f"/api/2.0/mlflow/runs/get?run_id={s.run_id}", timeout=HUNG_DB_BOUND_S + 5
            )
        except TimeoutError:
            pytest.fail(f"runs/get still waiting after {HUNG_DB_BOUND_S + 5:.0f} s on a locked table")
        took = time.monotonic() - start
    finally:
        holder.rollback()
        holder.close()
    assert took <= HUNG_DB_BOUND_S, f"answered only after {took:.1f} s: {response.describe()}"
    assert response.status in RETRYABLE and is_mlflow_error(response), response.describe()
    assert healthy(s.url)
    assert raw_request(s.url, "GET", f"/api/2.0/mlflow/runs/get?run_id={s.run_id}").status == 200
