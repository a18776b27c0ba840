"""Both storage backends behind the one interface: on local disk and on a real SeaweedFS S3."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from runstash_artifacts.paths import ROOT, ArtifactPath, parse_artifact_path
from runstash_artifacts.storage.base import TEMP_PREFIX, ArtifactStorage, Entry
from runstash_artifacts.storage.local import LocalStorage
from runstash_artifacts.storage.s3 import S3Storage
from runstash_protos.errors import ErrorCode, RunstashError

from .conftest import SMALL_PART

P = parse_artifact_path


def chunked(data: bytes, size: int = 1024 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def read_all(storage: ArtifactStorage, path: ArtifactPath) -> bytes:
    with storage.open_read(path) as handle:
        data = b"".join(handle.iter_chunks(64 * 1024))
        assert handle.size == len(data)
        return data


def walk(storage: ArtifactStorage, path: ArtifactPath = ROOT, prefix: str = "") -> dict[str, int]:
    """Every file under ``path`` (relative name -> size), listed one level at a time like the client."""
    found: dict[str, int] = {}
    for entry in storage.list_dir(path):
        name = f"{prefix}{entry.name}"
        if entry.is_dir:
            found.update(walk(storage, path.child(entry.name), f"{name}/"))
        else:
            assert entry.size is not None
            found[name] = entry.size
    return found


TREE = {
    "model/MLmodel": b"artifact_path: model\nflavors: {}\n",
    "model/model.pkl": os.urandom(300_000),
    "model/empty.txt": b"",
    "tree/a.json": b'{"a": 1}',
    "tree/sub/b.csv": b"x,y\n1,2\n",
    "tree/sub/deeper/c.bin": bytes(range(256)) * 4,
    "single.txt": b"hello\n",
    "unicode/résumé final ü.txt": "ü".encode() * 10,
}


def test_nested_tree_round_trips_byte_for_byte(storage: ArtifactStorage) -> None:
    base = P("1/run1/artifacts")
    for name, data in TREE.items():
        assert storage.write(base.join(P(name)), chunked(data, 7000)) == len(data)

    assert walk(storage, base) == {name: len(data) for name, data in TREE.items()}
    for name, data in TREE.items():
        assert read_all(storage, base.join(P(name))) == data


def test_listing_is_one_level_sorted_with_sizes_for_files_only(storage: ArtifactStorage) -> None:
    for name in ("d/b.txt", "d/a.txt", "d/sub/x", "d/C.txt"):
        storage.write(P(name), [b"12345"])
    assert storage.list_dir(P("d")) == [
        Entry("C.txt", False, 5),
        Entry("a.txt", False, 5),
        Entry("b.txt", False, 5),
        Entry("sub", True, None),
    ]
    assert storage.list_dir(ROOT) == [Entry("d", True, None)]
    # A missing path and a file path both list nothing (the mlflow client then GETs the file).
    assert storage.list_dir(P("missing")) == []
    assert storage.list_dir(P("d/a.txt")) == []
    # "d" must not match the sibling "d2" by prefix.
    storage.write(P("d2/z"), [b"z"])
    assert [e.name for e in storage.list_dir(P("d"))] == ["C.txt", "a.txt", "b.txt", "sub"]


def test_upload_replaces_an_existing_file(storage: ArtifactStorage) -> None:
    storage.write(P("a/f.bin"), [b"old contents, longer"])
    storage.write(P("a/f.bin"), [b"new"])
    assert read_all(storage, P("a/f.bin")) == b"new"


def test_missing_file_is_404_and_directory_is_400(storage: ArtifactStorage) -> None:
    storage.write(P("dir/file.txt"), [b"x"])
    with pytest.raises(RunstashError) as missing:
        storage.open_read(P("dir/nope.txt"))
    assert missing.value.code is ErrorCode.RESOURCE_DOES_NOT_EXIST
    assert missing.value.message == "No such artifact: 'dir/nope.txt'"
    with pytest.raises(RunstashError) as directory:
        storage.open_read(P("dir"))
    assert directory.value.code is ErrorCode.INVALID_PARAMETER_VALUE
    assert directory.value.message == "Artifact path refers to a directory, not a file: 'dir'"


def test_delete_file_tree_and_missing(storage: ArtifactStorage) -> None:
    for name in ("x/keep.txt", "x/gone/a.txt", "x/gone/deep/b.txt", "x/gone2.txt"):
        storage.write(P(name), [b"data"])
    storage.delete(P("x/gone"))
    assert walk(storage, P("x")) == {"keep.txt": 4, "gone2.txt": 4}
    storage.delete(P("x/gone2.txt"))
    assert walk(storage, P("x")) == {"keep.txt": 4}
    storage.delete(P("x/never-existed"))  # not an error
    with pytest.raises(RunstashError, match="Invalid path"):
        storage.delete(ROOT)
    assert walk(storage, P("x")) == {"keep.txt": 4}


class Boom(Exception):
    pass


def failing_stream(good_bytes: int, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    """A client that disconnects after ``good_bytes``."""
    sent = 0
    while sent < good_bytes:
        yield b"\xab" * chunk
        sent += chunk
    raise Boom("client went away")


@pytest.mark.parametrize("good_bytes", [0, 3 * SMALL_PART])
def test_failed_upload_leaves_nothing_visible(storage: ArtifactStorage, good_bytes: int) -> None:
    storage.write(P("keep/old.bin"), [b"previous version"])
    with pytest.raises(Boom):
        storage.write(P("keep/new.bin"), failing_stream(good_bytes))
    with pytest.raises(Boom):
        storage.write(P("keep/old.bin"), failing_stream(good_bytes))
    assert walk(storage, P("keep")) == {"old.bin": 16}
    assert read_all(storage, P("keep/old.bin")) == b"previous version"
    if isinstance(storage, LocalStorage):
        leftovers = [n for n in os.listdir(os.path.join(storage.root, "keep")) if n.startswith(TEMP_PREFIX)]
        assert leftovers == []
    if isinstance(storage, S3Storage):
        uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket, Prefix=storage.prefix)
        assert uploads.get("Uploads", []) == []  # the multipart upload was aborted


def test_streamed_s3_upload_uses_multipart_parts(s3_storage: S3Storage) -> None:
    data = os.urandom(2 * SMALL_PART + 12345)
    s3_storage.write(P("big/file.bin"), chunked(data))
    head = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key=f"{s3_storage.prefix}/big/file.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")  # three parts: streamed, not buffered whole
    assert hashlib.sha256(read_all(s3_storage, P("big/file.bin"))).digest() == hashlib.sha256(data).digest()


def test_concurrent_uploads(storage: ArtifactStorage) -> None:
    """Distinct files all land intact; racing writers of one file leave exactly one whole version."""
    payloads = [os.urandom(2 * 1024 * 1024 + i) for i in range(6)]
    errors: list[BaseException] = []

    def upload(path: str, data: bytes) -> None:
        try:
            storage.write(P(path), chunked(data, 256 * 1024))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(f"c/own-{i}.bin", d)) for i, d in enumerate(payloads)]
    threads += [threading.Thread(target=upload, args=("c/shared.bin", d)) for d in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    for i, data in enumerate(payloads):
        assert read_all(storage, P(f"c/own-{i}.bin")) == data
    assert read_all(storage, P("c/shared.bin")) in payloads
    assert sorted(walk(storage, P("c"))) == sorted([f"own-{i}.bin" for i in range(6)] + ["shared.bin"])


def test_scoped_storage_cannot_see_outside_its_prefix(storage: ArtifactStorage) -> None:
    storage.write(P("1/run1/artifacts/mine.txt"), [b"mine"])
    storage.write(P("1/run2/artifacts/theirs.txt"), [b"theirs"])
    run1 = storage.scoped(P("1/run1/artifacts"))
    assert [e.name for e in run1.list_dir(ROOT)] == ["mine.txt"]
    assert read_all(run1, P("mine.txt")) == b"mine"
    with pytest.raises(RunstashError) as caught:
        run1.open_read(P("theirs.txt"))
    assert caught.value.code is ErrorCode.RESOURCE_DOES_NOT_EXIST


# -- local disk specifics


def test_symlinks_cannot_escape_the_root(local_storage: LocalStorage, artifact_dir: Path) -> None:
    outside = artifact_dir.parent / "outside"
    (artifact_dir / "1").mkdir()
    os.symlink(outside, artifact_dir / "1" / "link-dir")
    os.symlink(outside / "secret.txt", artifact_dir / "1" / "link-file")
    for action in (
        lambda: local_storage.open_read(P("1/link-file")),
        lambda: local_storage.open_read(P("1/link-dir/secret.txt")),
        lambda: local_storage.list_dir(P("1/link-dir")),
        lambda: local_storage.write(P("1/link-dir/new.txt"), [b"x"]),
        lambda: local_storage.write(P("1/link-file"), [b"overwrite"]),
        lambda: local_storage.delete(P("1/link-dir/secret.txt")),
    ):
        with pytest.raises(RunstashError, match="Invalid path"):
            action()
    # Listing the parent does not leak the link targets either.
    assert local_storage.list_dir(P("1")) == []
    # Deleting the link removes the link, never what it points to.
    local_storage.delete(P("1/link-dir"))
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "top secret"


def test_run_scope_symlink_to_another_run_is_refused(local_storage: LocalStorage, artifact_dir: Path) -> None:
    local_storage.write(P("1/run2/artifacts/theirs.txt"), [b"theirs"])
    (artifact_dir / "1" / "run1" / "artifacts").mkdir(parents=True)
    os.symlink(artifact_dir / "1" / "run2" / "artifacts", artifact_dir / "1" / "run1" / "artifacts" / "other")
    run1 = local_storage.scoped(P("1/run1/artifacts"))
    with pytest.raises(RunstashError, match="Invalid path"):
        run1.open_read(P("other/theirs.txt"))


def test_upload_below_a_file_or_onto_a_directory_is_a_client_error(local_storage: LocalStorage) -> None:
    local_storage.write(P("f.txt"), [b"x"])
    local_storage.write(P("d/x.txt"), [b"x"])
    with pytest.raises(RunstashError) as below_file:
        local_storage.write(P("f.txt/child.txt"), [b"y"])
    assert below_file.value.code is ErrorCode.INVALID_PARAMETER_VALUE
    with pytest.raises(RunstashError) as onto_dir:
        local_storage.write(P("d"), [b"y"])
    assert onto_dir.value.code is ErrorCode.INVALID_PARAMETER_VALUE


def test_name_too_long_is_a_client_error(local_storage: LocalStorage) -> None:
    with pytest.raises(RunstashError) as caught:
        local_storage.write(P("x" * 300), [b"y"])
    assert caught.value.code is ErrorCode.INVALID_PARAMETER_VALUE
