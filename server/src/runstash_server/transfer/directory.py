"""The export directory: what `runstash export` writes and `runstash import --from DIR` reads.

Self-describing (``manifest.json`` states the format, its version and this layout), one file per
record in the shapes of MLflow's REST API, metric histories as CSV chunks, artifacts as plain
files. A file appears whole or not at all (written beside, then renamed), and a run's
``run.json`` is written last, so an export cut short never shows a run with half its history.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FORMAT, VERSION = "runstash-export", 1
CSV_COLUMNS = ("step", "timestamp", "value", "model_id", "dataset_name", "dataset_digest")
LAYOUT = {
    "experiments/<experiment_id>.json": "an experiment as experiments/get answers it",
    "logged-models/<model_id>.json": "a logged model as logged-models/get answers it",
    "runs/<run_id>/run.json": "a run as runs/get answers it (info, data, inputs, outputs)",
    "runs/<run_id>/metrics/<url-quoted key>/<n>.csv": f"history chunks, columns {','.join(CSV_COLUMNS)}",
    "registry/<url-quoted name>.json": "{model: as registered-models/get, versions: [model versions]}",
    "artifacts/<path>": "artifact files under their artifact-proxy path (mlflow-artifacts:/<path>)",
}
CHUNK = 1024 * 1024
Json = dict[str, Any]


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _write_json(path: Path, value: Any) -> None:
    _write_atomic(path, json.dumps(value, indent=1, sort_keys=True).encode())


def _without_password(source: str) -> str:
    """The source as the manifest records it: a database URI's password left out."""
    parsed = urllib.parse.urlsplit(source)
    if parsed.password is None:
        return source
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parsed._replace(netloc=netloc))


def _artifact_path(root: Path, rel: str) -> Path:
    path = (root / "artifacts" / rel).resolve()
    if not path.is_relative_to((root / "artifacts").resolve()):
        raise ValueError(f"artifact path {rel!r} leaves the export directory")
    return path


class DirTarget:
    def __init__(self, root: Path, source: str) -> None:
        self.root = root
        manifest = root / "manifest.json"
        if manifest.exists():
            check_manifest(root)
        else:
            described = {"format": FORMAT, "version": VERSION, "source": _without_password(source)}
            _write_json(manifest, {**described, "layout": LAYOUT})
        self._lock = threading.Lock()
        self._chunks: dict[tuple[str, str], int] = {}

    def close(self) -> None:
        pass

    def experiment(self, experiment: Json) -> None:
        _write_json(self.root / "experiments" / f"{experiment['experiment_id']}.json", experiment)

    def logged_model(self, model: Json) -> None:
        _write_json(self.root / "logged-models" / f"{model['info']['model_id']}.json", model)

    def run(self, run: Json, *, final: bool) -> None:
        folder = self.root / "runs" / run["info"]["run_id"]
        if final:
            _write_json(folder / "run.json", run)
            return
        shutil.rmtree(folder, ignore_errors=True)  # a run cut short is exported again from scratch
        folder.mkdir(parents=True)

    def metrics(self, run_id: str, key: str, points: list[Json]) -> None:
        with self._lock:
            n = self._chunks.get((run_id, key), 0)
            self._chunks[(run_id, key)] = n + 1
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for p in points:
            value = float(p["value"])
            writer.writerow(
                (p.get("step", 0), p["timestamp"], repr(value), *(p.get(c) or "" for c in CSV_COLUMNS[3:]))
            )
        path = self.root / "runs" / run_id / "metrics" / _quote(key) / f"{n:06d}.csv"
        _write_atomic(path, out.getvalue().encode())

    def inputs_outputs(self, run: Json) -> None:
        pass  # part of run.json

    def upload(self, path: str, chunks: Iterator[bytes]) -> None:
        target = _artifact_path(self.root, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with partial.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(partial, target)

    def registered_model(self, model: Json, versions: list[Json]) -> int:
        path = self.root / "registry" / f"{_quote(model['name'])}.json"
        had = len(json.loads(path.read_text())["versions"]) if path.exists() else 0
        _write_json(path, {"model": model, "versions": versions})
        return max(len(versions) - had, 0)


def check_manifest(root: Path) -> Json:
    path = root / "manifest.json"
    if not path.is_file():
        raise ValueError(f"{root} is not an export directory (no manifest.json)")
    manifest: Json = json.loads(path.read_text())
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValueError(
            f"{path}: format {manifest.get('format')} {manifest.get('version')}, expected {FORMAT} {VERSION}"
        )
    return manifest


def _point(row: dict[str, str], key: str) -> Json:
    point: Json = {
        "key": key,
        "value": float(row["value"]),
        "timestamp": int(row["timestamp"]),
        "step": int(row["step"]),
    }
    point.update({c: row[c] for c in CSV_COLUMNS[3:] if row.get(c)})
    return point


class DirSource:
    def __init__(self, root: Path) -> None:
        self.root = root
        check_manifest(root)
        self._runs: dict[str, list[Json]] | None = None

    def close(self) -> None:
        pass

    def _records(self, folder: str) -> list[Json]:
        return [json.loads(p.read_text()) for p in sorted((self.root / folder).glob("*.json"))]

    def experiments(self) -> list[Json]:
        return sorted(self._records("experiments"), key=lambda e: int(e["experiment_id"]))

    def logged_models(self, experiment_ids: list[str]) -> list[Json]:
        wanted = set(experiment_ids)
        return [m for m in self._records("logged-models") if m["info"]["experiment_id"] in wanted]

    def runs(self, experiment_id: str) -> list[Json]:
        if self._runs is None:
            self._runs = {}
            for path in sorted((self.root / "runs").glob("*/run.json")):
                run = json.loads(path.read_text())
                self._runs.setdefault(run["info"]["experiment_id"], []).append(run)
        return self._runs.get(experiment_id, [])

    def history(self, run_id: str, key: str) -> Iterator[list[Json]]:
        for path in sorted((self.root / "runs" / run_id / "metrics" / _quote(key)).glob("*.csv")):
            with path.open(newline="") as f:
                yield [_point(row, key) for row in csv.DictReader(f)]

    def artifact_files(self, rel: str) -> Iterator[tuple[str, int]]:
        base = _artifact_path(self.root, rel)
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.endswith(".partial"):
                yield f"{rel}/{path.relative_to(base).as_posix()}", path.stat().st_size

    def read_artifact(self, path: str) -> Iterator[bytes]:
        with _artifact_path(self.root, path).open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def registered_models(self) -> list[Json]:
        return [entry["model"] for entry in self._records("registry")]

    def model_versions(self, name: str) -> list[Json]:
        entry = json.loads((self.root / "registry" / f"{_quote(name)}.json").read_text())
        return list(entry["versions"])
