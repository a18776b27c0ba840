"""Path attack shapes (security.md "12 shapes" #1, #2, #3, #5) through the HTTP gateway.

Every artifact route gets every encoding of a traversal / absolute / drive / network-path / URI-
special path. The server must answer 400 INVALID_PARAMETER_VALUE (MLflow JSON) and must neither
serve the canaries planted outside its artifact root nor create, change or delete anything there.

Then the experiment ``artifact_location`` shapes: a location is either rejected with 400 or, if
stored, never dereferenced by the server (no read, list or write of host files through
``/get-artifact``, ``artifacts/list`` or ``upload-artifact`` for runs of that experiment).
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.security.support import (
    RawResponse,
    StartedServer,
    assert_mlflow_error,
    checked_json,
    create_experiment,
    create_run,
    files_under,
    healthy,
    post_json,
    raw_request,
    start_sqlite_server,
)

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, ServerLauncher

CANARY = f"runstash-canary-{secrets.token_hex(8)}"
VICTIM = b"victim file: must survive every DELETE"


@dataclass
class Target:
    """The server plus the ids and files the attacks aim at."""

    started: StartedServer
    experiment_id: str
    run_id: str
    model_id: str
    canaries: list[Path]  # outside the artifact root; their content must never be served
    victims: list[Path]  # outside the artifact root; must survive DELETE attacks
    inside_victim: Path  # inside the root but in another run: must survive too

    @property
    def url(self) -> str:
        return self.started.url


@pytest.fixture(scope="module")
def target(
    deployment: str,
    server_launcher: ServerLauncher,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Target]:
    """One server per deployment (--deployments): the split one sends every request through the
    gateway to the artifact service over gRPC."""
    for started in start_sqlite_server(
        "sec-paths", server_launcher, database_factory, tmp_path_factory, deployment=deployment
    ):
        url = started.url
        experiment_id = create_experiment(url, "paths")
        run_id = str(create_run(url, experiment_id)["run_id"])
        created = post_json(url, "/api/2.0/mlflow/logged-models", {"experiment_id": experiment_id})
        model = checked_json(created)
        model_id = str(model["model"]["info"]["model_id"])
        # A legitimate artifact in each root, so that a path normalised *into* the root still finds
        # a file (the attacks must fail on the path, not on a missing file).
        run_prefix = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts"
        for path in (f"{run_prefix}/ok.txt", f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/ok.txt"):
            assert raw_request(url, "PUT", path, body=b"fine").status == 200
        other_run = str(create_run(url, experiment_id)["run_id"])
        inside_victim = started.artifacts / experiment_id / other_run / "artifacts" / "victim.txt"
        inside_victim.parent.mkdir(parents=True)
        inside_victim.write_bytes(VICTIM)

        canaries, victims = [], []
        # Every directory from the artifact root up to the sandbox gets a canary and a victim, so
        # a traversal of any depth lands on one.
        directory = started.artifacts.parent
        while True:
            canary = directory / "canary.txt"
            canary.write_text(CANARY)
            canaries.append(canary)
            victim = directory / "victim.txt"
            victim.write_bytes(VICTIM)
            victims.append(victim)
            if directory == started.sandbox:
                break
            directory = directory.parent
        yield Target(started, experiment_id, run_id, model_id, canaries, victims, inside_victim)


# ---------------------------------------------------------------------------------------------
# the shapes


def traversal_variants(depth: int, leaf: str) -> dict[str, str]:
    """``../`` * depth + leaf in every encoding that has bypassed a path check somewhere."""
    return {
        f"raw-{depth}": "../" * depth + leaf,
        f"pct-{depth}": "%2e%2e%2f" * depth + leaf,
        f"pct-upper-{depth}": "%2E%2E%2F" * depth + leaf,
        f"pct-dots-{depth}": "%2e%2e/" * depth + leaf,
        f"double-{depth}": "%252e%252e%252f" * depth + leaf,
        f"triple-{depth}": "%25252e%25252e%25252f" * depth + leaf,
        f"backslash-{depth}": "..\\" * depth + leaf,
        f"pct-backslash-{depth}": "..%5c" * depth + leaf,
        f"double-backslash-{depth}": "..%255c" * depth + leaf,
        f"inner-{depth}": "ok/" + "../" * (depth + 1) + leaf,
        f"dot-slash-{depth}": "./" + "../" * depth + leaf,
        f"nul-{depth}": "../" * depth + leaf + "%00.txt",
    }


def attack_paths(target: Target, *, nested: bool = False) -> dict[str, str]:
    """Percent-encoded path strings (ready to put into a URL path or a query value).

    ``nested``: the route puts the attack after a fixed prefix (``<exp>/<run>/artifacts/``); an
    absolute or drive path there is just a relative name inside the root, so only the shapes
    that climb or smuggle URI syntax are meaningful.
    """
    quote = urllib.parse.quote
    shapes: dict[str, str] = {}
    for depth in range(1, 7):
        shapes.update(traversal_variants(depth, "canary.txt"))
    shapes.update(
        {
            "query-smuggle": "a%3f/../../canary.txt",
            "query-smuggle-2": "ok.txt%3f/a",
            "fragment-smuggle": "a%23/../../canary.txt",
            "fragment-smuggle-2": "ok.txt%23x",
            "nul": "ok.txt%00",
            "control": "ok%0a.txt",
            "dotdot-only": "..",
            "dotdot-pct-only": "%2e%2e",
        }
    )
    if nested:
        return shapes
    first = target.canaries[0]
    shapes.update(
        {
            "absolute": quote(str(first)),
            "absolute-pct-slash": "%2f" + quote(str(first).lstrip("/"), safe=""),
            "absolute-double": "%252f" + quote(str(first).lstrip("/"), safe=""),
            "etc-passwd": "/etc/passwd",
            "drive": "C:/Windows/win.ini",
            "drive-backslash": "C:%5cWindows%5cwin.ini",
            "drive-lower": "c:canary.txt",
            "unc": "%5c%5chost%5cshare%5cx",
            "proc": "//proc/self/root" + quote(str(first)),
            "proc-environ": "//proc/self/environ",
            "file-uri": "file://" + quote(str(first)),
            "file-uri-pct": quote("file://" + str(first), safe=""),
        }
    )
    return shapes


# ---------------------------------------------------------------------------------------------
# the routes: each builds (method, target, body) from an encoded attack path


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    build: Callable[[Target, str], tuple[str, bytes | None, dict[str, str]]]
    nested: bool = False  # the attack path follows a fixed prefix (see attack_paths)


def _proxy(prefix: str, method: str) -> Route:
    def build(t: Target, p: str) -> tuple[str, bytes | None, dict[str, str]]:
        body = b"escaped" if method == "PUT" else None
        return f"{prefix}/mlflow-artifacts/artifacts/{p}", body, {}

    return Route(f"{method} {prefix} proxy", method, build)


def _proxy_under_run(method: str) -> Route:
    def build(t: Target, p: str) -> tuple[str, bytes | None, dict[str, str]]:
        body = b"escaped" if method == "PUT" else None
        return f"/api/2.0/mlflow-artifacts/artifacts/{t.experiment_id}/{t.run_id}/artifacts/{p}", body, {}

    return Route(f"{method} proxy under run", method, build, nested=True)


def _query(name: str, method: str, make: Callable[[Target, str], str], body: bytes | None = None) -> Route:
    def build(t: Target, p: str) -> tuple[str, bytes | None, dict[str, str]]:
        return make(t, p), body, {}

    return Route(name, method, build)


def _mpu(kind: str, in_body: bool) -> Route:
    def build(t: Target, p: str) -> tuple[str, bytes | None, dict[str, str]]:

        fields: dict[str, object] = {"path": "escaped.bin", "upload_id": "u", "num_parts": 1}
        if kind == "complete":
            fields["parts"] = [{"part_number": 1, "etag": "e"}]
        directory = f"{t.experiment_id}/{t.run_id}/artifacts"
        if in_body:
            fields["path"] = urllib.parse.unquote(p)
        else:
            directory = p
        target = f"/api/2.0/mlflow-artifacts/mpu/{kind}/{directory}"
        return target, json.dumps(fields).encode(), {"Content-Type": "application/json"}

    return Route(f"mpu {kind} ({'body path' if in_body else 'url path'})", "POST", build)


def _presigned(kind: str) -> Route:
    def build(t: Target, p: str) -> tuple[str, bytes | None, dict[str, str]]:

        document = {"run_id": t.run_id, "path": urllib.parse.unquote(p), "expiration": 60}
        target = f"/api/2.0/mlflow/artifacts/presigned-{kind}-url"
        return target, json.dumps(document).encode(), {"Content-Type": "application/json"}

    return Route(f"presigned-{kind}-url", "POST", build)


ROUTES = [
    _proxy("/api/2.0", "GET"),
    _proxy("/ajax-api/2.0", "GET"),
    _proxy("/api/2.0", "PUT"),
    _proxy("/ajax-api/2.0", "PUT"),
    _proxy("/api/2.0", "DELETE"),
    _proxy("/ajax-api/2.0", "DELETE"),
    _proxy_under_run("GET"),
    _proxy_under_run("PUT"),
    _proxy_under_run("DELETE"),
    _query("proxy list", "GET", lambda t, p: f"/api/2.0/mlflow-artifacts/artifacts?path={p}"),
    _query("ajax proxy list", "GET", lambda t, p: f"/ajax-api/2.0/mlflow-artifacts/artifacts?path={p}"),
    _query("proxy presigned", "GET", lambda t, p: f"/api/2.0/mlflow-artifacts/presigned/{p}"),
    _mpu("create", in_body=False),
    _mpu("complete", in_body=False),
    _mpu("abort", in_body=False),
    _query("get-artifact", "GET", lambda t, p: f"/get-artifact?run_id={t.run_id}&path={p}"),
    _query("get-artifact run_uuid", "GET", lambda t, p: f"/get-artifact?run_uuid={t.run_id}&path={p}"),
    _query(
        "artifacts/list", "GET", lambda t, p: f"/api/2.0/mlflow/artifacts/list?run_id={t.run_id}&path={p}"
    ),
    _query(
        "ajax artifacts/list",
        "GET",
        lambda t, p: f"/ajax-api/2.0/mlflow/artifacts/list?run_id={t.run_id}&path={p}",
    ),
    _query(
        "logged-model files",
        "GET",
        lambda t, p: (
            f"/ajax-api/2.0/mlflow/logged-models/{t.model_id}/artifacts/files?artifact_file_path={p}"
        ),
    ),
    _query(
        "logged-model directories",
        "GET",
        lambda t, p: (
            f"/api/2.0/mlflow/logged-models/{t.model_id}/artifacts/directories?artifact_directory_path={p}"
        ),
    ),
    _query(
        "ajax logged-model directories",
        "GET",
        lambda t, p: (
            f"/ajax-api/2.0/mlflow/logged-models/{t.model_id}/artifacts/directories"
            f"?artifact_directory_path={p}"
        ),
    ),
    _query(
        "upload-artifact",
        "POST",
        lambda t, p: f"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={t.run_id}&path={p}",
        body=b"escaped",
    ),
    _presigned("upload"),
    _presigned("download"),
]

# The MPU body's file name is documented to be reduced to its last component ("C:\\x\\f" -> "f"),
# so for in-body shapes only those whose last component is itself unsafe must be refused.
MPU_BODY_ROUTES = [_mpu("create", in_body=True), _mpu("complete", in_body=True), _mpu("abort", in_body=True)]


def _leaks(response: RawResponse) -> bool:
    return CANARY.encode() in response.body


def _check_refused(t: Target, route: Route, shape: str, response: RawResponse) -> str | None:
    """None if the server refused the shape properly, else a description of what went wrong."""
    if _leaks(response):
        return f"{route.name} [{shape}]: CANARY SERVED {response.describe()}"
    if response.status == 404 and not response.content_type.startswith("application/json"):
        return None  # no route matched at all (e.g. a newline in a URL path): nothing was looked up
    if response.status != 400:
        return f"{route.name} [{shape}]: expected 400, got {response.describe()}"
    try:
        assert_mlflow_error(response, 400, "INVALID_PARAMETER_VALUE")
    except AssertionError as exc:
        return f"{route.name} [{shape}]: {exc}"
    return None


def _outside_state(t: Target) -> dict[Path, bytes | None]:
    """Everything outside the artifact root (with file contents), to diff before/after."""
    state: dict[Path, bytes | None] = {}
    for path in files_under(t.started.sandbox, skip=[t.started.artifacts]):
        state[path] = path.read_bytes() if path.is_file() else None
    return state


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_every_path_shape_is_refused_on_every_artifact_route(target: Target, route: Route) -> None:
    before = _outside_state(target)
    failures = []
    for shape, encoded in attack_paths(target, nested=route.nested).items():
        path, body, headers = route.build(target, encoded)
        response = raw_request(target.url, route.method, path, body=body, headers=headers)
        problem = _check_refused(target, route, shape, response)
        if problem is not None:
            failures.append(problem)
    assert not failures, "\n".join(failures)
    assert _outside_state(target) == before, "files outside the artifact root were created/changed"
    for victim in [*target.victims, target.inside_victim]:
        assert victim.read_bytes() == VICTIM, victim
    # Nothing the attacks carried ended up anywhere, not even normalised into the root.
    written = [p for p in files_under(target.started.sandbox) if p.name.startswith("escaped")]
    assert not written, written
    assert healthy(target.url)


@pytest.mark.parametrize("route", MPU_BODY_ROUTES, ids=lambda r: r.name)
def test_multipart_file_name_in_the_body_is_reduced_or_refused(target: Target, route: Route) -> None:
    unsafe = ["..", "%2e%2e", "a/..", "a%5c..", "ok%00", "x%23y", "x%3fy", "%252e%252e", "C:%5c.."]
    failures = []
    for encoded in unsafe:
        path, body, headers = route.build(target, encoded)
        response = raw_request(target.url, route.method, path, body=body, headers=headers)
        problem = _check_refused(target, route, encoded, response)
        if problem is not None:
            failures.append(problem)
    assert not failures, "\n".join(failures)


def test_ids_in_the_url_cannot_traverse(target: Target) -> None:
    """run_id / model_id are looked up, never joined into a path: traversal in them is a 404/400."""
    ids = ["..%2f..%2f..", "../../..", "%2e%2e", f"{target.run_id}%2f..%2f..", "..%5c.."]
    for bad in ids:
        for route in (
            f"/get-artifact?run_id={bad}&path=ok.txt",
            f"/api/2.0/mlflow/artifacts/list?run_id={bad}",
            f"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={bad}&path=escaped.txt",
            f"/ajax-api/2.0/mlflow/logged-models/{bad}/artifacts/files?artifact_file_path=canary.txt",
            f"/api/2.0/mlflow/logged-models/{bad}/artifacts/directories",
        ):
            method = "POST" if "upload-artifact" in route else "GET"
            response = raw_request(target.url, method, route, body=b"escaped" if method == "POST" else None)
            assert not _leaks(response), route
            assert response.status in (400, 404), f"{route}: {response.describe()}"
            if response.content_type.startswith("application/json"):
                assert_mlflow_error(response, response.status)
    written = [p for p in files_under(target.started.sandbox) if p.name.startswith("escaped")]
    assert not written, written


def test_legitimate_paths_still_work(target: Target) -> None:
    """The checks above would pass trivially on a server that refuses everything."""
    t = target
    run_path = f"/api/2.0/mlflow-artifacts/artifacts/{t.experiment_id}/{t.run_id}/artifacts"
    assert raw_request(t.url, "GET", f"{run_path}/ok.txt").body == b"fine"
    assert raw_request(t.url, "GET", f"{run_path}/./ok.txt").body == b"fine"
    got = raw_request(t.url, "GET", f"/get-artifact?run_id={t.run_id}&path=ok.txt")
    assert got.status == 200 and got.body == b"fine", got.describe()
    listed = checked_json(raw_request(t.url, "GET", f"/api/2.0/mlflow/artifacts/list?run_id={t.run_id}"))
    assert [f["path"] for f in listed["files"]] == ["ok.txt"]
    uploaded = raw_request(
        t.url, "POST", f"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={t.run_id}&path=ui.txt", body=b"ui"
    )
    assert uploaded.status == 200, uploaded.describe()
    assert (t.started.artifacts / t.experiment_id / t.run_id / "artifacts" / "ui.txt").read_bytes() == b"ui"
    # A name that merely contains dots is fine.
    dotted = raw_request(t.url, "PUT", f"{run_path}/a..b/..c.txt", body=b"dots")
    assert dotted.status == 200, dotted.describe()
    assert (t.started.artifacts / t.experiment_id / t.run_id / "artifacts" / "a..b" / "..c.txt").exists()


# ---------------------------------------------------------------------------------------------
# experiment artifact_location


def location_shapes(outside: Path, artifacts: Path) -> dict[str, str]:
    """artifact_location values aimed at ``outside`` (a host directory the server must not touch)
    or at siblings of the artifact root whose names merely start like it."""
    o = str(outside)
    return {
        "sibling-prefix": f"{artifacts}-evil",
        "sibling-prefix-file": f"file://{artifacts}-evil",
        "sibling-prefix-slash": f"{artifacts}/../artifacts-evil",
        "cve-2024-1594": "http:///#/../../../../" + o.lstrip("/") + "/",
        "fragment-file": "file:///#/../../../.." + o,
        "query-file": "file://" + o + "?x=/../..",
        "params-file": "file://" + o + ";x=1",
        "file-uri": "file://" + o,
        "bare-path": o,
        "proc-root": "//proc/self/root" + o,
        "network-path": "//localhost" + o,
        "file-localhost": "file://localhost" + o,
        "backslash": "\\..\\..\\..\\" + o.lstrip("/").replace("/", "\\"),
        "mlflow-artifacts-dotdot": "mlflow-artifacts:/../../../.." + o,
        "mlflow-artifacts-pct": "mlflow-artifacts:/%2e%2e/%2e%2e/%2e%2e/%2e%2e" + o,
        "mlflow-artifacts-host": "mlflow-artifacts://evil.example" + o,
        "http-proxy-dotdot": "http://127.0.0.1/api/2.0/mlflow-artifacts/artifacts/../../../.." + o,
        "s3-dotdot": "s3://bucket/../../" + o.lstrip("/"),
        "runs-uri": "runs:/0123456789abcdef/artifacts",
        "http-metadata": "http://169.254.169.254/latest/meta-data/",
    }


def _host_dir_of(run_artifact_uri: str) -> Path | None:
    """Where a naive server would put this run root on the host (None: not a local path)."""
    parsed = urllib.parse.urlparse(run_artifact_uri)
    if parsed.scheme == "file":
        return Path(urllib.parse.unquote(parsed.path))
    if parsed.scheme == "" and run_artifact_uri.startswith("/"):
        return Path(run_artifact_uri.replace("//proc/self/root", "", 1))
    return None


def test_artifact_location_is_rejected_or_never_dereferenced(target: Target) -> None:
    t = target
    outside = t.started.sandbox / "outside"
    outside.mkdir(exist_ok=True)
    failures = []
    for shape, location in location_shapes(outside, t.started.artifacts).items():
        created = post_json(
            t.url,
            "/api/2.0/mlflow/experiments/create",
            {"name": f"loc-{shape}-{secrets.token_hex(3)}", "artifact_location": location},
        )
        if created.status != 200:
            try:
                assert_mlflow_error(created, 400, "INVALID_PARAMETER_VALUE")
            except AssertionError as exc:
                failures.append(f"{shape}: {exc}")
            continue
        experiment_id = str(created.json()["experiment_id"])
        run = create_run(t.url, experiment_id)
        run_id, uri = str(run["run_id"]), str(run["artifact_uri"])
        host_dir = _host_dir_of(uri)
        root = t.started.artifacts
        if host_dir is not None and root not in [host_dir, *host_dir.parents]:
            # Plant what a dereferencing server would find there.
            host_dir.mkdir(parents=True, exist_ok=True)
            (host_dir / "canary.txt").write_text(CANARY)
        probes = {
            "get-artifact": raw_request(t.url, "GET", f"/get-artifact?run_id={run_id}&path=canary.txt"),
            "list": raw_request(t.url, "GET", f"/api/2.0/mlflow/artifacts/list?run_id={run_id}"),
            "upload": raw_request(
                t.url,
                "POST",
                f"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={run_id}&path=escaped.txt",
                body=b"escaped",
            ),
        }
        for probe, response in probes.items():
            where = f"{shape} ({location!r}) {probe}"
            if _leaks(response):
                failures.append(f"{where}: served a host file: {response.describe()}")
            elif probe == "list" and b"canary.txt" in response.body:
                failures.append(f"{where}: listed a host directory: {response.describe()}")
            elif response.status >= 500 and response.status != 501:
                failures.append(f"{where}: {response.describe()}")
        written = [
            p
            for p in files_under(t.started.sandbox, skip=[t.started.artifacts])
            if p.name.startswith("escaped")
        ]
        if written:
            failures.append(f"{shape} ({location!r}) upload: wrote host files {written}")
            for p in written:
                p.unlink()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("location", ["file:///etc", "/etc", "//proc/self/root/etc", "file:///"])
def test_host_system_locations_are_not_read(target: Target, location: str) -> None:
    """Read-only probes for real system directories (no writes: a broken server must not write /etc).

    A run root under ``/etc/<run_id>/artifacts`` does not exist, so the proof that such a location
    is never dereferenced is the tmp twin above; here: refused, or nothing of /etc shows up."""
    t = target
    created = post_json(
        t.url,
        "/api/2.0/mlflow/experiments/create",
        {"name": f"sys-{secrets.token_hex(4)}", "artifact_location": location},
    )
    if created.status != 200:
        assert_mlflow_error(created, 400, "INVALID_PARAMETER_VALUE")
        return
    run_id = str(create_run(t.url, str(created.json()["experiment_id"]))["run_id"])
    for path in ("passwd", "../passwd", "../../passwd", "%2e%2e/%2e%2e/passwd"):
        response = raw_request(t.url, "GET", f"/get-artifact?run_id={run_id}&path={path}")
        assert b"root:" not in response.body, response.describe()
        assert response.status in (400, 404, 501), response.describe()
    listing = raw_request(t.url, "GET", f"/api/2.0/mlflow/artifacts/list?run_id={run_id}&path=..")
    assert b"passwd" not in listing.body, listing.describe()


def test_ui_static_files_cannot_be_climbed_out_of(target: Target) -> None:
    """The web UI is served from gateway/ui/dist: the same shapes must not reach the repository
    (gateway/ui/dist/../../../pyproject.toml) or the host (/etc/passwd)."""
    leaks = (b"runstash-workspace", b"root:x:0:0")
    failures = []
    for prefix in ("/", "/static-files/", "/assets/"):
        for depth in (3, 4, 8):
            for leaf in ("pyproject.toml", "etc/passwd"):
                for shape, encoded in traversal_variants(depth, leaf).items():
                    path = prefix + encoded
                    response = raw_request(target.url, "GET", path)
                    if any(leak in response.body for leak in leaks):
                        failures.append(f"GET {path}: served a file outside the UI folder")
                    elif response.status >= 500:
                        failures.append(f"GET {path} [{shape}]: {response.describe()}")
    for path in (
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/static-files//etc/passwd",
        "/static-files/%2fetc/passwd",
    ):
        response = raw_request(target.url, "GET", path)
        if any(leak in response.body for leak in leaks) or response.status >= 500:
            failures.append(f"GET {path}: {response.describe()}")
    assert not failures, "\n".join(failures)
    index = raw_request(target.url, "GET", "/")
    assert index.status == 200  # the UI (or its not-built notice) is still served
