#!/usr/bin/env bash
# Fail if the committed generated code differs from what protos/ generates now (pinned generators).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$here/scripts/gen_protos.sh" "$tmp" >/dev/null 2>&1
committed="$here/protos/python/src/runstash_protos"
status=0
for f in "$tmp"/runstash_protos/*_pb2*; do
  name="$(basename "$f")"
  if ! cmp -s "$f" "$committed/$name"; then
    echo "out of date: protos/python/src/runstash_protos/$name (run 'make protos')" >&2
    status=1
  fi
done
for f in "$committed"/*_pb2*; do
  [ -e "$tmp/runstash_protos/$(basename "$f")" ] || { echo "stale generated file: $f" >&2; status=1; }
done
[ $status -eq 0 ] && echo "generated code is up to date with protos/"
exit $status
