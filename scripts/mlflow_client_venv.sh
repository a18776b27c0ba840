#!/usr/bin/env bash
# Builds .venv-mlflow: the stock mlflow client (and the real `mlflow server`, used as the reference
# by tests/differential and bench/) in a venv of its own, apart from the server's .venv, so that
# nothing of runstash can leak into what "the stock client" sees.
# Idempotent: a stamp file holds the hash of the requirement list; a matching stamp means no work.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MLFLOW_CLIENT_VENV:-$ROOT/.venv-mlflow}"
PYTHON="${PYTHON:-python3}"

# psycopg2-binary: the real server needs `postgresql+psycopg2://` (SQLAlchemy 2.1 defaults to
# psycopg 3, which is not installed); pymysql for `mysql+pymysql://`.
REQUIREMENTS=(
  "mlflow==3.17.2"
  "scikit-learn"
  "pandas"
  "boto3"
  "psycopg2-binary"
  "pymysql"
  "requests"
)

STAMP="$VENV/.requirements.sha256"
want="$(printf '%s\n' "${REQUIREMENTS[@]}" "$PYTHON" | sha256sum | cut -d' ' -f1)"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi

echo "building $VENV (mlflow client + reference server)" >&2
rm -f "$STAMP"
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"

# uv (from the server's venv, or on PATH) is ~10x faster than pip; pip is the fallback.
UV="$ROOT/.venv/bin/uv"
[ -x "$UV" ] || UV="$(command -v uv || true)"
if [ -n "$UV" ]; then
  "$UV" pip install -q --python "$VENV/bin/python" "${REQUIREMENTS[@]}"
else
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${REQUIREMENTS[@]}"
fi

"$VENV/bin/python" -c "import mlflow, sklearn, pandas, boto3, psycopg2; assert mlflow.__version__ == '3.17.2'"
echo "$want" >"$STAMP"
