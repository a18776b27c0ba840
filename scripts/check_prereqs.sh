#!/usr/bin/env bash
# What `make test` needs from the machine, checked up front: prints each missing piece with the
# way to get it, and exits 1 if anything required is missing. Optional pieces (the Docker engine
# for the deploy test) are reported but do not fail.
set -uo pipefail

missing=0
ok() { printf '  ok       %s\n' "$1"; }
need() { printf '  MISSING  %s\n           -> %s\n' "$1" "$2"; missing=1; }
optional() { printf '  skipped  %s\n           -> %s\n' "$1" "$2"; }

version_at_least() {  # version_at_least HAVE WANT  (dotted numbers)
  [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" == "$2" ]]
}

echo "runstash prerequisites:"

py="${PYTHON:-python3}"
if pyv=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) && version_at_least "$pyv" 3.11; then
  ok "Python $pyv ($py)"
else
  need "Python >= 3.11 as \`$py\` (found: ${pyv:-none})" "install Python 3.11+ or run make PYTHON=/path/to/python3.11"
fi
"$py" -c 'import venv, ensurepip' 2>/dev/null || need "Python venv and ensurepip modules" "apt-get install python3-venv"

if nodev=$(node --version 2>/dev/null) && version_at_least "${nodev#v}" 20.19; then
  ok "Node.js $nodev"
else
  need "Node.js >= 20.19 (vite 8 needs it; found: ${nodev:-none})" "install Node.js 20.19+ (e.g. NodeSource or nvm)"
fi
command -v npm >/dev/null && ok "npm $(npm --version)" || need "npm" "install npm with Node.js"

tcp_open() { "$py" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()' "$1" "$2" 2>/dev/null; }

if ! tcp_open 127.0.0.1 5432; then
  need "PostgreSQL on 127.0.0.1:5432" "start it (Debian: pg_ctlcluster \$(ls /etc/postgresql) main start)"
elif command -v psql >/dev/null && ! psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1 </dev/null; then
  need "PostgreSQL user postgres without password on 127.0.0.1 (trust auth; the tests create databases)" \
    "in pg_hba.conf: host all postgres 127.0.0.1/32 trust"
else
  ok "PostgreSQL on 127.0.0.1:5432 (user postgres)"
fi

mysql_client=$(command -v mariadb || command -v mysql || true)
if ! tcp_open 127.0.0.1 3306; then
  need "MariaDB (or MySQL) on 127.0.0.1:3306" "start it (Debian: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd)"
elif [[ -n "$mysql_client" ]] && ! "$mysql_client" --protocol=tcp -h 127.0.0.1 -P 3306 -u root -e 'select 1' >/dev/null 2>&1 </dev/null; then
  need "MariaDB user root with an empty password on 127.0.0.1 (the tests create databases)" \
    "ALTER USER 'root'@'localhost' IDENTIFIED BY ''; (or a root@127.0.0.1 account without password)"
else
  ok "MariaDB on 127.0.0.1:3306 (user root)"
fi

if command -v chromium >/dev/null; then
  ok "Chromium ($(command -v chromium)) for the browser tests"
elif [[ $(id -u) == 0 ]]; then
  ok "Chromium not installed yet; the browser tests install it (apt-get, as root)"
else
  need "Chromium for the browser tests (not installed, and installing needs root)" "sudo apt-get install chromium"
fi

if docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && command -v docker-compose >/dev/null; then
  ok "Docker engine and docker-compose (the deploy test runs)"
else
  optional "Docker engine + docker-compose: the deploy test will be skipped" "as root: deploy/engine.sh (installs Debian's docker.io and starts dockerd)"
fi

if ((missing)); then
  echo "Missing prerequisites above; see README.md, section Prerequisites." >&2
  exit 1
fi
