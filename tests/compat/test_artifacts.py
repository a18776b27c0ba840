"""Artifacts through the proxy with the stock client: log_artifact(s), log_text/log_dict, listing,
directory and file downloads, load_dict, a multi-MiB binary (sha256) and awkward names
(tutorial-trace.md §6), on SQLite + local disk and PostgreSQL + S3."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.conftest import MlflowClientRunner, RunningServer, S3Endpoint

SCRIPT = """
import hashlib, os, pathlib, tempfile, uuid
import mlflow
from mlflow import MlflowClient

c = MlflowClient()
p = "art-" + uuid.uuid4().hex[:8]
mlflow.set_experiment(p)
src = pathlib.Path(tempfile.mkdtemp())
(src / "single.txt").write_text("hello\\n")
tree = src / "tree"
(tree / "sub" / "deeper").mkdir(parents=True)
(tree / "a.json").write_text('{"a": 1}')
(tree / "sub" / "b.csv").write_text("x,y\\n1,2\\n")
(tree / "sub" / "deeper" / "c.bin").write_bytes(os.urandom(1000))
big = src / "big.bin"
big.write_bytes(os.urandom(5 * 1024 * 1024 + 123))
odd = src / "name with space ü.txt"
odd.write_text("odd")

def sha(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()

def listing(run_id, path=None):
    return sorted([f.path, f.is_dir, f.file_size] for f in c.list_artifacts(run_id, path))

out = {}
with mlflow.start_run() as run:
    rid = run.info.run_id
    mlflow.log_artifact(str(src / "single.txt"))
    mlflow.log_artifact(str(src / "single.txt"), "notes")
    mlflow.log_artifacts(str(tree), artifact_path="tree")
    mlflow.log_text("some text", "texts/t.txt")
    mlflow.log_dict({"lr": 0.1, "layers": [1, 2]}, "cfg/conf.json")
    mlflow.log_artifact(str(big), "blobs")
    mlflow.log_artifact(str(odd), "odd dir")
    out["root"] = listing(rid)
    out["tree"] = listing(rid, "tree")
    out["tree_sub"] = listing(rid, "tree/sub")
    out["missing_dir"] = listing(rid, "no-such-dir")

dest = pathlib.Path(tempfile.mkdtemp())
local_tree = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="tree", dst_path=str(dest / "t"))
out["downloaded_tree"] = sorted(
    str(pth.relative_to(local_tree)) for pth in pathlib.Path(local_tree).rglob("*") if pth.is_file()
)
out["tree_bytes_equal"] = all(
    (pathlib.Path(local_tree) / rel).read_bytes() == (tree / rel).read_bytes()
    for rel in ("a.json", "sub/b.csv", "sub/deeper/c.bin")
)
single = mlflow.artifacts.download_artifacts(f"runs:/{rid}/single.txt", dst_path=str(dest / "s"))
out["single"] = pathlib.Path(single).read_text()
out["conf"] = mlflow.artifacts.load_dict(f"runs:/{rid}/cfg/conf.json")
out["text"] = mlflow.artifacts.load_text(f"runs:/{rid}/texts/t.txt")
big_local = mlflow.artifacts.download_artifacts(f"runs:/{rid}/blobs/big.bin", dst_path=str(dest / "b"))
out["big_sha_equal"] = sha(big_local) == sha(big)
odd_local = mlflow.artifacts.download_artifacts(f"runs:/{rid}/odd dir/{odd.name}", dst_path=str(dest / "o"))
out["odd"] = pathlib.Path(odd_local).read_text()
everything = mlflow.artifacts.download_artifacts(f"runs:/{rid}/", dst_path=str(dest / "all"))
out["all_files"] = sorted(
    str(pth.relative_to(everything)) for pth in pathlib.Path(everything).rglob("*") if pth.is_file()
)
def missing():
    mlflow.artifacts.download_artifacts(f"runs:/{rid}/nope.txt", dst_path=str(dest / "m"))
try:
    missing()
    out["missing_file"] = "no error"
except Exception as e:
    out["missing_file"] = type(e).__name__
out["run_id"] = rid
out["experiment_id"] = run.info.experiment_id
emit(out)
"""


def test_artifacts_via_proxy(
    artifact_server: tuple[RunningServer, S3Endpoint | None, str], mlflow_client: MlflowClientRunner
) -> None:
    server, s3, destination = artifact_server
    out: dict[str, Any] = mlflow_client.run(SCRIPT, server.url)

    assert out["root"] == [
        ["blobs", True, None],
        ["cfg", True, None],
        ["notes", True, None],
        ["odd dir", True, None],
        ["single.txt", False, 6],
        ["texts", True, None],
        ["tree", True, None],
    ]
    assert out["tree"] == [["tree/a.json", False, 8], ["tree/sub", True, None]]
    assert out["tree_sub"] == [["tree/sub/b.csv", False, 8], ["tree/sub/deeper", True, None]]
    assert out["missing_dir"] == []
    assert out["downloaded_tree"] == ["a.json", "sub/b.csv", "sub/deeper/c.bin"]
    assert out["tree_bytes_equal"] is True
    assert out["single"] == "hello\n"
    assert out["conf"] == {"lr": 0.1, "layers": [1, 2]}
    assert out["text"] == "some text"
    assert out["big_sha_equal"] is True
    assert out["odd"] == "odd"
    assert out["all_files"] == sorted(
        [
            "blobs/big.bin",
            "cfg/conf.json",
            "notes/single.txt",
            "odd dir/name with space ü.txt",
            "single.txt",
            "texts/t.txt",
            "tree/a.json",
            "tree/sub/b.csv",
            "tree/sub/deeper/c.bin",
        ]
    )
    assert out["missing_file"] != "no error"

    # The bytes really live in the configured destination (not somewhere server-local).
    run_prefix = f"{out['experiment_id']}/{out['run_id']}/artifacts/"
    if s3 is not None:
        prefix = destination.removeprefix(f"s3://{s3.bucket}/").rstrip("/") + "/" + run_prefix
        listed = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
        keys = sorted(obj["Key"].removeprefix(prefix) for obj in listed.get("Contents", []))
        assert "blobs/big.bin" in keys
        assert "tree/sub/deeper/c.bin" in keys
        sizes = {obj["Key"].removeprefix(prefix): obj["Size"] for obj in listed["Contents"]}
        assert sizes["blobs/big.bin"] == 5 * 1024 * 1024 + 123
    else:
        from pathlib import Path

        root = Path(destination) / run_prefix
        assert (root / "blobs" / "big.bin").stat().st_size == 5 * 1024 * 1024 + 123
        assert (root / "tree" / "sub" / "deeper" / "c.bin").stat().st_size == 1000
