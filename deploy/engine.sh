#!/usr/bin/env bash
# Make a Docker engine answer on this machine: install Debian's docker.io (and docker-compose,
# debootstrap for the local base images) when missing, and start dockerd as root when it is not
# running. Idempotent; prints nothing but progress. Needs root for the install and the daemon.
set -euo pipefail

log() { printf '[engine %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

SOCKET=/var/run/docker.sock
LOG_FILE=${DOCKERD_LOG:-/var/log/dockerd.log}

engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if engine_up; then
  log "Docker engine already answering ($(docker version --format '{{.Server.Version}}'))"
  exit 0
fi

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    log "missing ${missing[*]} and not root: install them with apt-get as root"
    exit 1
  fi
  log "installing ${missing[*]} from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}" >/dev/null
fi

if [[ $(id -u) != 0 ]]; then
  log "dockerd is not running and only root can start it"
  exit 1
fi

# This machine: cgroup v1, overlay2 on the root file system; no systemd, so dockerd runs detached.
log "starting dockerd (log: $LOG_FILE)"
setsid dockerd --storage-driver=overlay2 --host="unix://$SOCKET" >>"$LOG_FILE" 2>&1 </dev/null &

# Poll the socket (0.2 s steps, at most 60 s): no blind sleeps.
for ((i = 0; i < 300; i++)); do
  if engine_up; then
    log "Docker engine up ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 0.2
done
log "dockerd did not answer within 60 s; last lines of $LOG_FILE:"
tail -20 "$LOG_FILE" >&2
exit 1
