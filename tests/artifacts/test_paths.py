"""Path safety rules (security.md section A): every unsafe shape is refused with 400 "Invalid path"."""

from __future__ import annotations

import pytest
from runstash_artifacts.paths import multipart_file_name, parse_artifact_path, parse_file_path
from runstash_protos.errors import ErrorCode, RunstashError

# Each string is what a storage call would receive after the gateway's single percent-decoding.
UNSAFE = [
    "..",
    "../secret.txt",
    "a/../../secret.txt",
    "a/..",
    "a/b/../../..",
    "%2e%2e/secret.txt",  # client sent %252e%252e: once-decoded still spells a traversal
    "%2E%2E%2Fsecret.txt",
    "%252e%252e%252fsecret.txt",  # triple-encoded
    "..%2fsecret.txt",
    "..%5csecret.txt",
    "a%00b",
    "/etc/passwd",
    "//proc/self/root/etc/passwd",
    "%2fetc%2fpasswd",
    "C:/Windows/win.ini",
    "c:secret",
    "C:\\Windows",
    "..\\secret.txt",
    "a\\..\\..\\secret.txt",
    "\\\\server\\share",
    "a\x00b",
    "a\nb",
    "a\rb",
    "a\tb",
    "a\x7fb",
    "a?/a",
    "a?b=c",
    "a#frag",
    "http:///#/../../etc/",
    "file:///etc/passwd",
    "FILE:/etc/passwd",
]


@pytest.mark.parametrize("raw", UNSAFE)
def test_unsafe_paths_are_invalid_parameter(raw: str) -> None:
    with pytest.raises(RunstashError) as caught:
        parse_artifact_path(raw)
    assert caught.value.code is ErrorCode.INVALID_PARAMETER_VALUE
    assert caught.value.message == "Invalid path"


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("", ()),
        ("a", ("a",)),
        ("1/run/artifacts/model/MLmodel", ("1", "run", "artifacts", "model", "MLmodel")),
        ("a//b/./c", ("a", "b", "c")),
        ("./a", ("a",)),
        ("a/", ("a",)),
        ("..a/b..", ("..a", "b..")),  # dots inside a name are not traversal
        ("100%.txt", ("100%.txt",)),
        ("a%2Fb", ("a%2Fb",)),  # a literal name: never decoded a second time
        ("résumé 1.txt", ("résumé 1.txt",)),
        ("t-10:00.log", ("t-10:00.log",)),
    ],
)
def test_safe_paths_normalise_without_decoding(raw: str, parts: tuple[str, ...]) -> None:
    assert parse_artifact_path(raw).parts == parts


def test_root_is_refused_where_a_file_is_needed() -> None:
    with pytest.raises(RunstashError, match="Invalid path"):
        parse_artifact_path("", allow_root=False)
    with pytest.raises(RunstashError, match="Invalid path"):
        parse_file_path(".")


def test_upload_path_must_name_a_file() -> None:
    with pytest.raises(RunstashError) as caught:
        parse_file_path("1/run/artifacts/dir/")
    assert caught.value.code is ErrorCode.INVALID_PARAMETER_VALUE
    assert caught.value.message == "Artifact path must include a filename (cannot end with '/')."


@pytest.mark.parametrize(
    ("raw", "name"),
    [("big.bin", "big.bin"), ("/home/me/data/big.bin", "big.bin"), ("C:\\Users\\me\\big.bin", "big.bin")],
)
def test_multipart_file_name_takes_the_last_component(raw: str, name: str) -> None:
    assert multipart_file_name(raw) == name


@pytest.mark.parametrize("raw", ["dir/", "a/..", "a\\.", "%2e%2e", "a?b"])
def test_multipart_file_name_rejects_empty_dot_and_unsafe(raw: str) -> None:
    with pytest.raises(RunstashError, match="Invalid path"):
        multipart_file_name(raw)


def test_multipart_file_name_is_required() -> None:
    with pytest.raises(RunstashError, match="Missing value for required parameter 'path'"):
        multipart_file_name("")
