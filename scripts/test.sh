#!/usr/bin/env bash
# `make test`: lint, then the whole suite twice:
#   1. on the embedded defaults (SQLite, file-system Celery broker, file cache), and
#   2. on a real PostgreSQL and a real Redis, started here on loopback ports and stopped afterwards.
# Installs what it needs (Python packages into .venv; Debian packages with apt-get when run as root).
# Exits non-zero if any part fails, including a pytest run that collected no tests (exit code 5).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/.venv/bin"
ARTIFACTS="$ROOT/test-artifacts"
mkdir -p "$ARTIFACTS"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { printf '\n\033[31mFAILED: %s\033[0m\n' "$*" >&2; exit 1; }

# --- Debian packages ---------------------------------------------------------------------------------------
need_pkgs=()
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need_pkgs+=(postgresql)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
command -v pdftoppm >/dev/null || need_pkgs+=(poppler-utils)
command -v zbarimg >/dev/null || need_pkgs+=(zbar-tools)
command -v npm >/dev/null || need_pkgs+=(npm)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "Installing Debian packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update"
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null || die "apt-get install ${need_pkgs[*]}"
  else
    die "missing Debian packages: ${need_pkgs[*]}. Install them with: sudo apt-get install ${need_pkgs[*]}"
  fi
fi

# --- Python packages ---------------------------------------------------------------------------------------
say "Python environment"
make --no-print-directory .venv/.dev-installed PYTHON="${PYTHON:-python3}" || die "installing requirements-dev.txt"

# --- axe-core (npm) for the browser tests' accessibility checks (tests/browser/test_layout.py) ----------------
AXE_VERSION=4.10.3
AXE_INSTALLED=$("$BIN/python" -c "import json; print(json.load(open('.cache/npm/node_modules/axe-core/package.json'))['version'])" 2>/dev/null)
if [ "$AXE_INSTALLED" != "$AXE_VERSION" ]; then
  say "axe-core $AXE_VERSION (npm)"
  npm install --prefix .cache/npm --no-save --no-audit --no-fund "axe-core@$AXE_VERSION" >/dev/null || die "npm install axe-core"
fi

# --- Lint --------------------------------------------------------------------------------------------------
say "Ruff"
"$BIN/ruff" check . || die "ruff check"
"$BIN/ruff" format --check . >/dev/null || die "ruff format --check (run: make format)"
"$BIN/python" manage.py makemigrations --check --dry-run >/dev/null || die "models changed without a migration"

run_pytest() {  # $1: label; remaining: pytest args
  local label=$1; shift
  say "pytest on $label"
  "$BIN/python" -m pytest "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then die "pytest on $label collected no tests"; fi
  [ $rc -eq 0 ] || die "pytest on $label (exit $rc)"
}

# --- 1. Embedded defaults ----------------------------------------------------------------------------------
EMBEDDED_VAR=$(mktemp -d)
export PLAYWRIGHT_ARTIFACTS="$ARTIFACTS/embedded"
(
  unset CELERY_BROKER_URL REDIS_TEST_URL
  export DATABASE_URL="sqlite:///$EMBEDDED_VAR/db.sqlite3" CELERY_BROKER_DIR="$EMBEDDED_VAR/broker" \
    CACHE_URL="filecache://$EMBEDDED_VAR/cache"
  run_pytest "SQLite + file-system broker" "$@"
) || exit 1
rm -rf "$EMBEDDED_VAR"

# --- 2. PostgreSQL + Redis ---------------------------------------------------------------------------------
free_port() { "$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
SERVICES_DIR=$(mktemp -d /tmp/vmp-services.XXXXXX)
chmod 755 "$SERVICES_DIR"
PG_PORT=$(free_port); REDIS_PORT=$(free_port)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
  [ -f "$SERVICES_DIR/pg/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$SERVICES_DIR/redis.pid" ] && kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null
  rm -rf "$SERVICES_DIR"
}
trap cleanup EXIT

say "Starting PostgreSQL on 127.0.0.1:$PG_PORT and Redis on 127.0.0.1:$REDIS_PORT"
mkdir -p "$SERVICES_DIR/pg"
[ "$(id -u)" = 0 ] && chown -R postgres "$SERVICES_DIR"
as_pg "$PG_BIN/initdb" -D "$SERVICES_DIR/pg" -U postgres -A trust -E UTF8 >"$SERVICES_DIR/initdb.log" 2>&1 \
  || { cat "$SERVICES_DIR/initdb.log"; die "initdb"; }
as_pg "$PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg" -l "$SERVICES_DIR/pg.log" -w \
  -o "-p $PG_PORT -k $SERVICES_DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
  || { cat "$SERVICES_DIR/pg.log"; die "starting PostgreSQL"; }
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log" --dir "$SERVICES_DIR" \
  || die "starting Redis"
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

export PLAYWRIGHT_ARTIFACTS="$ARTIFACTS/postgres-redis"
(
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/portal" \
    CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0" CACHE_URL="rediscache://127.0.0.1:$REDIS_PORT/1" \
    REDIS_TEST_URL="redis://127.0.0.1:$REDIS_PORT/2"
  run_pytest "PostgreSQL + Redis" "$@"
) || exit 1

say "All green: lint, SQLite + file broker, PostgreSQL + Redis"
