"""runstash_gateway.static: the built UI's files, never anything outside its folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from runstash_gateway.static import StaticUI


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>ui</title>")
    (root / "assets" / "index-3f9a1c2b.js").write_text("console.log(1)")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside")
    return root


def test_index_and_assets_with_their_cache_rules(dist: Path) -> None:
    ui = StaticUI(dist)
    index = ui.lookup("/")
    assert (
        index is not None and index.cache_control == "no-cache" and index.content_type.startswith("text/html")
    )
    asset = ui.lookup("/assets/index-3f9a1c2b.js")
    assert asset is not None and asset.cache_control.endswith("immutable") and asset.body == b"console.log(1)"
    mlflow_prefixed = ui.lookup("/static-files/assets/index-3f9a1c2b.js")
    assert mlflow_prefixed is not None and mlflow_prefixed.body == asset.body
    svg = ui.lookup("/favicon.svg")
    assert svg is not None and svg.content_type == "image/svg+xml; charset=utf-8"
    assert svg.cache_control == "public, max-age=300"


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/a\\b",
        "/x\x00y",
        "/missing.js",
        "/assets",
    ],
)
def test_nothing_outside_the_folder_and_no_folders(dist: Path, path: str) -> None:
    assert StaticUI(dist).lookup(path) is None


@pytest.mark.parametrize("length", [300, 5000])
def test_a_name_too_long_for_the_file_system_is_not_found(dist: Path, length: int) -> None:
    ui = StaticUI(dist)
    assert ui.lookup("/" + "a" * length) is None
    assert ui.lookup("/assets/" + "b" * length + ".js") is None


def test_built_tells_whether_index_exists(tmp_path: Path, dist: Path) -> None:
    assert StaticUI(dist).built
    assert not StaticUI(tmp_path / "nowhere").built


def test_index_follows_a_rebuild_but_hashed_assets_are_cached(dist: Path) -> None:
    ui = StaticUI(dist)
    assert ui.lookup("/assets/index-3f9a1c2b.js") is not None
    (dist / "index.html").write_text("rebuilt")
    (dist / "assets" / "index-3f9a1c2b.js").unlink()
    index = ui.lookup("/")
    assert index is not None and index.body == b"rebuilt"
    assert ui.lookup("/assets/index-3f9a1c2b.js") is not None  # immutable by name
