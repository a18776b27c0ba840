"""The code keeps the shape the style rules ask for: small modules, short functions.

Walks the Python sources of the services, the gateway, the protos package and the client (not the
generated ``*_pb2*`` modules, not the Alembic migrations) and names every module over
``MAX_MODULE_LINES`` lines and every function over ``MAX_FUNCTION_LINES`` lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = ("services", "gateway/src", "protos/python", "clients/python")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _is_generated_or_migration(path: Path) -> bool:
    return "migrations" in path.parts or path.name.endswith(("_pb2.py", "_pb2_grpc.py"))


def sources() -> Iterator[Path]:
    for root in SOURCE_ROOTS:
        for path in sorted((ROOT / root).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if any(part.startswith(".") or part == "node_modules" for part in relative.parts):
                continue
            if not _is_generated_or_migration(relative):
                yield path


def test_the_walk_sees_the_sources_and_skips_generated_code() -> None:
    seen = {p.relative_to(ROOT).as_posix() for p in sources()}
    assert "services/metadata/src/runstash_metadata/servicer.py" in seen
    assert "gateway/src/runstash_gateway/app.py" in seen
    assert "clients/python/src/runstash/client.py" in seen
    assert not any(name.endswith("_pb2.py") or "/migrations/" in name for name in seen)


def test_no_module_is_over_400_lines() -> None:
    too_long = {
        p.relative_to(ROOT).as_posix(): n
        for p in sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"


def test_no_function_is_over_60_lines() -> None:
    too_long: dict[str, int] = {}
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long[f"{path.relative_to(ROOT).as_posix()}:{node.lineno} {node.name}"] = length
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines: {too_long}"
