"""Artifacts through the proxy with the stock client: log_artifact(s), log_text/log_dict, listing,
directory and file downloads, load_dict, a multi-MiB binary (sha256) and awkward names
(tutorial-trace.md §6), on SQLite + local disk and PostgreSQL + S3."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.compat.scripts import section

if TYPE_CHECKING:
    from tests.conftest import RunningServer, S3Endpoint


@pytest.mark.timeout(900)
def test_artifacts_via_proxy(
    artifact_server: tuple[RunningServer, S3Endpoint | None, str], artifact_results: dict[str, Any]
) -> None:
    _server, s3, destination = artifact_server
    out: dict[str, Any] = section(artifact_results, "artifacts")

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
