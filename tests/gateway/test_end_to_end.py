"""The gateway end to end over HTTP (httpx -> ASGI app -> backend -> servicer), for both backends:
in-process servicer objects, and real gRPC servers reached over the wire with reflection.

Each test runs once per deployment mode (the ``deployment_mode`` fixture).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from runstash_gateway import Gateway, GatewayConfig

if TYPE_CHECKING:
    from tests.gateway.conftest import Services

Runner = Callable[..., None]
JSON = {"Content-Type": "application/json"}


def test_health_version_and_server_info(gateway_run: Runner) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        health = await client.get("/health")
        assert (health.status_code, health.text) == (200, "OK")
        assert health.headers["content-type"].startswith("text/plain")
        assert health.headers["x-content-type-options"] == "nosniff"
        assert health.headers["x-frame-options"] == "SAMEORIGIN"
        version = await client.get("/version")
        assert version.status_code == 200 and int(version.text.split(".")[0]) >= 3
        for prefix in ("/api", "/ajax-api"):
            info = (await client.get(f"{prefix}/3.0/mlflow/server-info")).json()
            assert info["artifact_serving_enabled"] is True
            # The artifact service on a local folder cannot presign: multipart stays off.
            assert info["multipart_uploads_enabled"] is False
            assert info["artifacts_presigned_only"] is False
            assert info["store_type"] == "SqlStore"

    gateway_run(body)


def test_experiment_round_trip_and_errors(gateway_run: Runner) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        created = await client.post("/api/2.0/mlflow/experiments/create", json={"name": "exp"})
        assert created.status_code == 200
        experiment_id = created.json()["experiment_id"]
        got = await client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": experiment_id})
        experiment = got.json()["experiment"]
        assert experiment["name"] == "exp" and experiment["creation_time"] == 1_700_000_000_000
        assert "tags" not in experiment  # empty repeated omitted
        # the ajax mirror comes from the additional binding
        mirror = await client.get("/ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=exp")
        assert mirror.json()["experiment"]["experiment_id"] == experiment_id

        duplicate = await client.post("/api/2.0/mlflow/experiments/create", json={"name": "exp"})
        assert duplicate.status_code == 400
        assert duplicate.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
        missing = await client.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=nope")
        assert missing.status_code == 404
        assert missing.json() == {
            "error_code": "RESOURCE_DOES_NOT_EXIST",
            "message": "Could not find experiment with name 'nope'",
            "sqlstate": "KAM00",
            "error_class": "RESOURCE_NOT_FOUND",
        }

    gateway_run(body)


def test_request_encoding_rules(gateway_run: Runner, services: Services) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        url = "/api/2.0/mlflow/experiments/create"
        no_type = await client.post(url, content=b'{"name": "a"}')
        assert no_type.status_code == 400
        assert no_type.json()["message"] == "Bad Request. Content-Type header is missing."
        wrong = await client.post(url, content=b'{"name": "a"}', headers={"Content-Type": "text/plain"})
        assert wrong.json()["message"] == "Bad Request. Content-Type must be one of ['application/json']."
        charset = await client.post(
            url, content=b'{"name": "c"}', headers={"Content-Type": "application/json; charset=utf-8"}
        )
        assert charset.status_code == 200

        double = await client.post(url, content=b'"{\\"name\\": \\"double\\"}"', headers=JSON)
        assert double.status_code == 200 and services.metadata.last["CreateExperiment"].name == "double"

        malformed = await client.post(url, content=b'{"name": ', headers=JSON)
        assert malformed.status_code == 400
        assert malformed.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        not_object = await client.post(url, content=b"[1, 2]", headers=JSON)
        assert not_object.status_code == 400
        null = await client.post(url, content=b"null", headers=JSON)  # read as {}, like MLflow
        assert null.json()["message"] == "Missing value for required parameter 'name'."

        empty = await client.post(url, content=b"", headers=JSON)  # empty body = {} -> servicer's 400
        assert empty.status_code == 400
        assert empty.json()["message"] == "Missing value for required parameter 'name'."

        camel = await client.post(url, json={"name": "camel", "artifactLocation": "s3://b/x"})
        assert camel.status_code == 200
        assert services.metadata.last["CreateExperiment"].artifact_location == "s3://b/x"
        both = await client.post(url, json={"artifact_location": "a", "artifactLocation": "b"})
        assert both.status_code == 400 and "Request specifies both" in both.json()["message"]

        typed = await client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": 0})
        assert typed.status_code == 400
        assert typed.json()["message"].startswith(
            "Invalid value 0 for parameter 'experiment_id' supplied:  Hint: Value was of type 'int'."
        )

    gateway_run(body)


def test_run_metrics_and_history_rendering(gateway_run: Runner, services: Services) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        created = await client.post(
            "/api/2.0/mlflow/runs/create",
            json={"experiment_id": "1", "start_time": "1700000000000", "tags": [{"key": "k", "value": "v"}]},
        )
        run = created.json()["run"]
        assert run["info"]["start_time"] == 1700000000000 and run["info"]["status"] == "RUNNING"
        assert run["inputs"] == {} and run["data"] == {"tags": [{"key": "k", "value": "v"}]}
        run_id = run["info"]["run_id"]

        metrics = [
            {"key": "loss", "value": "NaN", "timestamp": 1, "step": 0},
            {"key": "loss", "value": "Infinity", "timestamp": 2, "step": 1},
            {"key": "loss", "value": 0.5, "timestamp": "3", "step": "2"},
        ]
        logged = await client.post(
            "/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "metrics": metrics}
        )
        assert (logged.status_code, logged.json()) == (200, {})
        sent = services.metadata.last["LogBatch"]
        assert math.isnan(sent.metrics[0].value) and sent.metrics[2].step == 2

        history = await client.get(
            "/api/2.0/mlflow/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"}
        )
        assert history.json()["metrics"] == [
            {"key": "loss", "value": "NaN", "timestamp": 1, "step": 0},
            {"key": "loss", "value": "Infinity", "timestamp": 2, "step": 1},
            {"key": "loss", "value": 0.5, "timestamp": 3, "step": 2},
        ]
        bulk = await client.get(
            f"/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={run_id}&run_ids=other"
            "&metric_key=loss&max_results=10"
        )
        assert bulk.status_code == 200 and len(bulk.json()["metrics"]) == 3
        assert list(services.metadata.last["GetMetricHistoryBulkInterval"].run_ids) == [run_id, "other"]

        # MLflow's leniency: an unknown status name is dropped, the run stays RUNNING
        updated = await client.post("/api/2.0/mlflow/runs/update", json={"run_id": run_id, "status": "DONE"})
        assert updated.status_code == 200 and updated.json()["run_info"]["status"] == "RUNNING"
        finished = await client.post("/api/2.0/mlflow/runs/update", json={"run_id": run_id, "status": 3})
        assert finished.json()["run_info"]["status"] == "FINISHED"

    gateway_run(body)


def test_path_parameters_query_booleans_and_delete_bodies(gateway_run: Runner, services: Services) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        got = await client.get("/api/2.0/mlflow/logged-models/m-123?allow_deleted=True")
        assert got.status_code == 200
        assert got.json() == {
            "model": {
                "info": {"model_id": "m-123", "model_type": "", "status": "LOGGED_MODEL_READY"},
                "data": {},
            }
        }
        assert services.metadata.last["GetLoggedModel"].allow_deleted is True
        bad_bool = await client.get("/api/2.0/mlflow/logged-models/m-123?allow_deleted=yes")
        assert bad_bool.status_code == 400
        assert bad_bool.json()["message"] == "Invalid boolean value: yes, must be 'true' or 'false'."

        # DELETE reads its JSON body whatever the content type; two path variables
        deleted = await client.request(
            "DELETE", "/api/2.0/mlflow/logged-models/m-9/tags/my.tag", content=b'{"unused": 1}'
        )
        assert deleted.status_code == 200 and deleted.json() == {}
        last = services.metadata.last["DeleteLoggedModelTag"]
        assert (last.model_id, last.tag_key) == ("m-9", "my.tag")

        # PATCH with a body but no content type is parsed too
        patched = await client.patch(
            "/api/2.0/mlflow/logged-models/m-7", content=b'{"status": "LOGGED_MODEL_READY"}'
        )
        assert patched.json()["model"]["info"] == {"model_id": "m-7", "status": "LOGGED_MODEL_READY"}

        # a literal route wins over the template on the same path
        searched = await client.post("/api/2.0/mlflow/logged-models/search", json={"experiment_ids": ["1"]})
        assert searched.status_code == 200 and searched.json() == {}
        seen = services.metadata.metadata
        assert "x-runstash-present-empty" not in seen["SearchLoggedModels"]
        # `[]` and absent are the same protobuf; the call metadata tells them apart
        await client.post("/api/2.0/mlflow/logged-models/search", json={"experiment_ids": [], "order_by": []})
        assert seen["SearchLoggedModels"]["x-runstash-present-empty"] == "experiment_ids,order_by"
        await client.post("/api/2.0/mlflow/logged-models/search", json={})
        assert "x-runstash-present-empty" not in seen["SearchLoggedModels"]

    gateway_run(body)


def test_routing_errors_are_not_json(gateway_run: Runner) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        unknown = await client.post("/api/3.0/mlflow/runs/create", json={})
        assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
        trailing = await client.post("/api/2.0/mlflow/runs/create/", json={})
        assert trailing.status_code == 404
        wrong_method = await client.get("/api/2.0/mlflow/runs/create")
        assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["allow"]
        assert wrong_method.headers["content-type"].startswith("text/html")
        unimplemented = await client.post("/api/2.0/mlflow/experiments/delete", json={"experiment_id": "1"})
        assert unimplemented.status_code == 501
        assert unimplemented.json()["error_code"] == "NOT_IMPLEMENTED"
        crash = await client.get("/api/2.0/mlflow/logged-models/crash")
        assert crash.status_code == 500 and crash.json()["error_code"] == "INTERNAL_ERROR"

    gateway_run(body)


def test_artifact_upload_download_list_delete(gateway_run: Runner, services: Services) -> None:
    payload = bytes(range(256)) * 12_000  # ~3 MiB: several stream chunks each way

    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        base = "/api/2.0/mlflow-artifacts/artifacts"
        put = await client.put(f"{base}/1/run/artifacts/dir/model.bin", content=payload)
        assert (put.status_code, put.content) == (200, b"")
        assert (services.artifact_root / "1/run/artifacts/dir/model.bin").read_bytes() == payload

        got = await client.get(f"{base}/1/run/artifacts/dir/model.bin")
        assert got.status_code == 200 and got.content == payload
        assert got.headers["content-disposition"] == "attachment; filename=model.bin"
        assert got.headers["x-content-type-options"] == "nosniff"

        listed = await client.get(base, params={"path": "1/run/artifacts/dir"})
        assert listed.json() == {"files": [{"path": "model.bin", "is_dir": False, "file_size": len(payload)}]}
        assert (await client.get(base, params={"path": "1/nothing"})).json() == {}

        missing = await client.get(f"{base}/1/run/artifacts/none.txt")
        assert missing.status_code == 404
        assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"

        empty = await client.put(f"{base}/1/empty.txt", content=b"")
        assert empty.status_code == 200 and (services.artifact_root / "1/empty.txt").read_bytes() == b""

        deleted = await client.delete(f"{base}/1/run/artifacts/dir/model.bin")
        assert deleted.status_code == 200
        assert not (services.artifact_root / "1/run/artifacts/dir/model.bin").exists()

    gateway_run(body, GatewayConfig(stream_chunk_bytes=256 * 1024))


def test_security_headers_hosts_and_cors(gateway_run: Runner) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        evil = await client.get("/health", headers={"Host": "evil.example.com"})
        assert evil.status_code == 403
        assert evil.text == "Invalid Host header - possible DNS rebinding attack detected"
        private = await client.get("/health", headers={"Host": "192.168.1.20:5000"})
        assert private.status_code == 200
        allowed = await client.get("/health", headers={"Host": "tracking.corp"})
        assert allowed.status_code == 200

        origin = {"Origin": "http://localhost:3000"}
        preflight = await client.options(
            "/api/2.0/mlflow/runs/create",
            headers={**origin, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert "PATCH" in preflight.headers["access-control-allow-methods"]
        blocked = await client.post(
            "/api/2.0/mlflow/experiments/create",
            json={"name": "x"},
            headers={"Origin": "http://evil.example"},
        )
        assert blocked.status_code == 403 and blocked.text == "Cross-origin request blocked"
        same_origin = await client.post(
            "/api/2.0/mlflow/experiments/create",
            json={"name": "x"},
            headers={"Origin": "http://127.0.0.1:5000"},
        )
        assert same_origin.status_code == 200
        # a foreign origin may GET, but without CORS headers the browser keeps the body from it
        foreign_get = await client.get("/health", headers={"Origin": "http://evil.example"})
        assert foreign_get.status_code == 200 and "access-control-allow-origin" not in foreign_get.headers

    async def frame_deny(client: httpx.AsyncClient, app: Gateway) -> None:
        assert (await client.get("/health")).headers["x-frame-options"] == "DENY"

    async def open_door(client: httpx.AsyncClient, app: Gateway) -> None:
        response = await client.get("/health", headers={"Host": "evil.example.com"})
        assert response.status_code == 200 and "x-frame-options" not in response.headers

    gateway_run(body, GatewayConfig(allowed_hosts=("*.corp",)))
    gateway_run(frame_deny, GatewayConfig(x_frame_options="DENY"))
    gateway_run(open_door, GatewayConfig(disable_security_middleware=True, x_frame_options="NONE"))


def test_ui_is_served_from_dist_or_explains_it_is_missing(gateway_run: Runner, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>runstash ui</html>")
    (dist / "assets" / "index-3f9a1c2b.js").write_text("console.log(1)")

    async def built(client: httpx.AsyncClient, app: Gateway) -> None:
        index = await client.get("/")
        assert index.status_code == 200 and index.text == "<html>runstash ui</html>"
        assert index.headers["content-type"].startswith("text/html")
        asset = await client.get("/assets/index-3f9a1c2b.js")
        assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
        assert (await client.get("/../../etc/passwd")).status_code == 404
        assert (await client.get("/assets/nope.js")).status_code == 404
        # A rebuilt UI is served without a restart: index.html is read again, not cached.
        (dist / "index.html").write_text("<html>rebuilt</html>")
        assert (await client.get("/")).text == "<html>rebuilt</html>"

    async def missing(client: httpx.AsyncClient, app: Gateway) -> None:
        index = await client.get("/")
        assert index.status_code == 200 and "not built" in index.text

    gateway_run(built, GatewayConfig(ui_dist=str(dist)))
    gateway_run(missing, GatewayConfig(ui_dist=str(dist / "absent")))


def test_client_gone_mid_upload_ends_quietly(gateway_run: Runner, services: Services) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        incoming = [
            {"type": "http.request", "body": b"x" * 100_000, "more_body": True},
            {"type": "http.disconnect"},
        ]
        sent: list[Any] = []

        async def receive() -> Any:
            return incoming.pop(0) if incoming else {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "PUT",
            "path": "/api/2.0/mlflow-artifacts/artifacts/gone/part.bin",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:5000")],
        }
        await app(scope, receive, send)  # neither raises nor answers a client that is gone
        assert sent == []
        assert not (services.artifact_root / "gone" / "part.bin").exists()
        assert (await client.get("/health")).status_code == 200

    gateway_run(body)


def test_head_static_prefix_and_disabled_modes(gateway_run: Runner) -> None:
    async def prefixed(client: httpx.AsyncClient, app: Gateway) -> None:
        head = await client.head("/mlflow/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default")
        assert head.status_code == 404 and head.content == b""  # HEAD = GET without the body
        assert (await client.get("/mlflow/health")).text == "OK"
        # `/mlflow` without the slash would resolve the UI's relative paths against `/`.
        bare = await client.get("/mlflow?x=1")
        assert bare.status_code == 308 and bare.headers["location"] == "/mlflow/?x=1"
        assert (await client.get("/health")).status_code == 404
        # the artifact proxy answers with and without the prefix, as MLflow's ASGI routes do
        assert (await client.get("/mlflow/api/2.0/mlflow-artifacts/artifacts")).status_code == 200
        assert (await client.get("/api/2.0/mlflow-artifacts/artifacts")).status_code == 200
        created = await client.post("/mlflow/api/2.0/mlflow/experiments/create", json={"name": "p"})
        assert created.status_code == 200

    async def artifacts_only(client: httpx.AsyncClient, app: Gateway) -> None:
        tracking = await client.post("/api/2.0/mlflow/runs/create", json={})
        assert tracking.status_code == 503 and "--artifacts-only" in tracking.text
        listing = await client.get("/api/2.0/mlflow-artifacts/artifacts")
        assert listing.status_code == 200

    async def no_artifacts(client: httpx.AsyncClient, app: Gateway) -> None:
        blocked = await client.get("/api/2.0/mlflow-artifacts/artifacts")
        assert blocked.status_code == 503 and "--serve-artifacts" in blocked.text
        info = (await client.get("/api/3.0/mlflow/server-info")).json()
        assert info["artifact_serving_enabled"] is False

    gateway_run(prefixed, GatewayConfig(static_prefix="/mlflow"))
    gateway_run(artifacts_only, GatewayConfig(artifacts_only=True))
    gateway_run(no_artifacts, GatewayConfig(serve_artifacts=False))


def test_json_body_limit_but_streamed_uploads_are_unbounded(gateway_run: Runner, services: Services) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        big = {"name": "x" * 2000}
        too_large = await client.post("/api/2.0/mlflow/experiments/create", json=big)
        assert too_large.status_code == 413
        assert too_large.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "CreateExperiment" not in services.metadata.last
        upload = await client.put("/api/2.0/mlflow-artifacts/artifacts/big/file.bin", content=b"y" * 50_000)
        assert upload.status_code == 200
        assert (services.artifact_root / "big" / "file.bin").stat().st_size == 50_000

    gateway_run(body, GatewayConfig(max_json_body_bytes=1024, stream_chunk_bytes=4096))


def test_long_histories_are_sent_in_pieces(gateway_run: Runner) -> None:
    async def body(client: httpx.AsyncClient, app: Gateway) -> None:
        run = (await client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "1"})).json()
        run_id = run["run"]["info"]["run_id"]
        metrics = [{"key": "m", "value": i / 2, "timestamp": i, "step": i} for i in range(2500)]
        metrics[7]["value"] = "NaN"
        logged = await client.post(
            "/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "metrics": metrics}
        )
        assert logged.status_code == 200
        history = await client.get(f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=m")
        assert history.status_code == 200 and "content-length" not in history.headers  # chunked
        points = history.json()["metrics"]
        assert len(points) == 2500 and points[7]["value"] == "NaN" and points[2499]["step"] == 2499

    gateway_run(body, GatewayConfig(stream_json_items=1000))
