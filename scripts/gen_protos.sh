#!/usr/bin/env bash
# Regenerate the Python contract code from protos/ into $1 (default protos/python/src).
# The versions of the generators are pinned in requirements-dev.txt so the output is reproducible.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/protos/python/src}"
py="${PYTHON:-$here/.venv/bin/python}"
googleapis="$("$py" -c 'import google.api, os; print(os.path.dirname(os.path.dirname(google.api.__path__[0])))')"
mkdir -p "$out/runstash_protos"
cd "$here/protos"
"$py" -m grpc_tools.protoc -I . -I "$googleapis" \
  --python_out="$out" --mypy_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-mypy="$(dirname "$py")/protoc-gen-mypy" --plugin=protoc-gen-mypy_grpc="$(dirname "$py")/protoc-gen-mypy_grpc" --mypy_grpc_out="$out" \
  runstash_protos/*.proto
touch "$out/runstash_protos/py.typed"
