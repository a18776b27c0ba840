#!/usr/bin/env bash
# `make deploy-test`: build the image on the local bases, start deploy/compose.yaml's shape
# (PostgreSQL, S3, metadata, two artifact replicas, gateway) with only 127.0.0.1 ports, run the
# tutorial with the stock mlflow client against the gateway, stop one artifact replica and show
# downloads (and an upload) still work, then tear everything down. Needs root on a fresh machine
# (engine install, debootstrap); afterwards the bases and the layer cache are reused.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MLFLOW_PY="${MLFLOW_PY:-$ROOT/.venv-mlflow/bin/python}"
IMAGE="${RUNSTASH_IMAGE:-runstash:local}"
START_TIMEOUT="${DEPLOY_TEST_START_TIMEOUT:-180}"

log() { printf '[deploy-test %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
t0=$(date +%s)
step() { log "$* (+$(($(date +%s) - t0)) s)"; }

deploy/engine.sh
deploy/local-bases.sh
step "bases ready"

export DOCKER_BUILDKIT=0  # the legacy builder is what Debian's docker.io ships without buildx
docker build -q --network host -f deploy/Dockerfile \
  --build-arg PYTHON_IMAGE=runstash-local/python:3.11 --build-arg NODE_IMAGE=runstash-local/node:20 \
  -t "$IMAGE" . >/dev/null
step "image $IMAGE built"

free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
read -r gw pg s3 md a1 a2 <<<"$(free_ports 6)"
export RUNSTASH_IMAGE="$IMAGE" RUNSTASH_GATEWAY_PORT=$gw RUNSTASH_POSTGRES_PORT=$pg RUNSTASH_S3_PORT=$s3 \
  RUNSTASH_METADATA_PORT=$md RUNSTASH_ARTIFACTS_1_PORT=$a1 RUNSTASH_ARTIFACTS_2_PORT=$a2
project="runstash-deploytest-$$"
compose=(docker-compose --no-ansi -p "$project" -f deploy/compose.yaml -f deploy/compose.local.yaml)
work="$(mktemp -d)"

teardown() {
  local rc=$?
  if ((rc != 0)); then "${compose[@]}" logs --tail=40 >&2 2>/dev/null || true; fi
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$work"
  log "torn down (exit $rc, $(($(date +%s) - t0)) s in all)"
}
trap teardown EXIT

"${compose[@]}" up -d --no-build >/dev/null 2>&1 || { "${compose[@]}" up -d --no-build; exit 1; }
url="http://127.0.0.1:$gw"
for ((i = 0; i < START_TIMEOUT * 5; i++)); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1] + '/health', timeout=1)" "$url" 2>/dev/null; then
    break
  fi
  ((i == START_TIMEOUT * 5 - 1)) && { log "gateway not healthy within ${START_TIMEOUT}s"; exit 1; }
  sleep 0.2
done
step "stack up: gateway $url, metadata :$md, artifacts :$a1 :$a2, postgres :$pg, s3 :$s3"

# The web UI comes from the gateway's wheel (package data), not from a folder beside it.
python3 - "$url" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/", timeout=10) as r:
    assert r.status == 200 and b'<div id="root"' in r.read(), "UI index not served"
PY
step "UI index served"

# Every published port is on 127.0.0.1 only.
if docker ps --filter "label=com.docker.compose.project=$project" --format '{{.Ports}}' | tr ',' '\n' |
  grep -E -- '->' | grep -v '127\.0\.0\.1:'; then
  log "a port is published beyond 127.0.0.1"
  exit 1
fi

export MLFLOW_TRACKING_URI="$url"
"$MLFLOW_PY" tests/deploy/tutorial_client.py seed "$work/seed.json"
step "tutorial seeded through the gateway"

"${compose[@]}" stop artifacts-2 >/dev/null 2>&1
step "artifacts-2 stopped"
"$MLFLOW_PY" tests/deploy/tutorial_client.py download "$work/after.json"
step "downloads and an upload work with one artifact replica down"
echo "DEPLOY-TEST PASSED"
