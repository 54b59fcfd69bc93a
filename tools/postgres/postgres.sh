#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for development and tests, run from Debian's `postgresql`
# package (initdb, pg_ctl): no Docker, no service, no sudo for a normal user.
#
#   postgres.sh up               create the cluster (first run), start it, wait until ready
#   postgres.sh down [--purge]   stop it (fast shutdown); --purge deletes the data
#   postgres.sh status           exit 0 when running, 3 when not
#   postgres.sh url              print the connection URL (MRW_POSTGRES_URL)
#   postgres.sh logs [-f | N]    show the end of the server log
#
# It listens on 127.0.0.1 only, trusts every local connection (no password), keeps its unix
# socket inside the cache dir and runs with fsync on: a test cluster, but durable like a real one.
# Run as root, the server runs as POSTGRES_RUN_AS (`postgres` when that user exists, else
# `nobody`): initdb and postgres refuse root.
#
# Environment: POSTGRES_PORT (15432), POSTGRES_DATA_DIR (tools/postgres/.cache/data-$POSTGRES_PORT),
# POSTGRES_RUN_AS (see above), POSTGRES_START_TIMEOUT (60 seconds). See README.md beside this file.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
CACHE_DIR="$SCRIPT_DIR/.cache"
RUN_DIR="$CACHE_DIR/run"

PG_HOST=127.0.0.1
POSTGRES_PORT="${POSTGRES_PORT:-15432}"
POSTGRES_START_TIMEOUT="${POSTGRES_START_TIMEOUT:-60}"
PG_SUPERUSER=postgres
PG_DATABASE=mrw

DATADIR_FILE="$RUN_DIR/postgres-$POSTGRES_PORT.datadir"
LOCK_FILE="$RUN_DIR/postgres-$POSTGRES_PORT.lock"

log() { printf '[postgres] %s\n' "$*"; }
die() { printf '[postgres] error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

url() { printf 'postgres://%s@%s:%s/%s' "$PG_SUPERUSER" "$PG_HOST" "$POSTGRES_PORT" "$PG_DATABASE"; }

check_port_number() {
  if ! [[ "$POSTGRES_PORT" =~ ^[0-9]+$ ]] || ((POSTGRES_PORT < 1 || POSTGRES_PORT > 65535)); then
    die "POSTGRES_PORT must be a TCP port number (got '$POSTGRES_PORT')"
  fi
}

# The server binaries: the highest version under /usr/lib/postgresql (Debian installs every
# major version side by side there and puts none on PATH), else initdb on PATH.
BIN_DIR=""
find_binaries() {
  [[ -n "$BIN_DIR" ]] && return 0
  local candidate best="" best_version=-1 version
  for candidate in /usr/lib/postgresql/*/bin; do
    [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]] || continue
    version="${candidate#/usr/lib/postgresql/}"
    version="${version%%/*}"
    version="${version%%.*}"
    [[ "$version" =~ ^[0-9]+$ ]] || continue
    if ((version > best_version)); then
      best_version="$version"
      best="$candidate"
    fi
  done
  if [[ -z "$best" ]] && command -v initdb >/dev/null 2>&1; then
    best="$(dirname -- "$(readlink -f -- "$(command -v initdb)")")"
  fi
  [[ -n "$best" && -x "$best/pg_ctl" ]] ||
    die "no PostgreSQL server binaries (initdb, pg_ctl) found: install Debian's postgresql package (apt-get install postgresql)"
  BIN_DIR="$best"
}

# Who the server runs as: ourselves, or when we are root an unprivileged account.
RUN_AS=""
find_run_as() {
  if [[ "$(id -u)" -ne 0 ]]; then
    RUN_AS=""
    return 0
  fi
  if [[ -n "${POSTGRES_RUN_AS:-}" ]]; then
    RUN_AS="$POSTGRES_RUN_AS"
  elif id -u postgres >/dev/null 2>&1; then
    RUN_AS=postgres
  else
    RUN_AS=nobody
  fi
  id -u "$RUN_AS" >/dev/null 2>&1 || die "POSTGRES_RUN_AS=$RUN_AS is not a user on this machine"
  [[ "$(id -u "$RUN_AS")" -ne 0 ]] || die "the server cannot run as root (POSTGRES_RUN_AS=$RUN_AS)"
}

# Runs a server binary as the server's user, from / (the caller's cwd may be unreadable to it).
# fd 9 (the up/down lock) is closed for it: a postmaster started by pg_ctl would hold the lock forever.
as_server() {
  if [[ -n "$RUN_AS" ]]; then
    (cd / && runuser -u "$RUN_AS" -- "$@" 9>&-)
  else
    (cd / && "$@" 9>&-)
  fi
}

# Where the cluster lives. The default is under the cache dir; if the server's user cannot
# reach it (root running from a checkout under /root), or the socket path would exceed the
# 107 bytes a unix socket address holds, a directory under /tmp is used instead.
data_dir() {
  if [[ -n "${POSTGRES_DATA_DIR:-}" ]]; then
    printf '%s' "$POSTGRES_DATA_DIR"
  elif [[ -s "$DATADIR_FILE" ]]; then
    cat -- "$DATADIR_FILE"
  else
    local dir="$CACHE_DIR/data-$POSTGRES_PORT"
    if ! reachable_by_server "$CACHE_DIR" || ((${#dir} + ${#POSTGRES_PORT} + 20 > 100)); then
      dir="${TMPDIR:-/tmp}/mrw-postgres-$(id -u)/data-$POSTGRES_PORT"
    fi
    printf '%s' "$dir"
  fi
}

# The socket lives in the data dir's parent, in a directory of its own per port.
socket_dir() { printf '%s/socket-%s' "$(dirname -- "$1")" "$POSTGRES_PORT"; }
log_file() { printf '%s/postgres-%s.log' "$(dirname -- "$1")" "$POSTGRES_PORT"; }

reachable_by_server() {
  [[ -z "$RUN_AS" ]] && return 0
  mkdir -p -- "$1"
  (cd / && runuser -u "$RUN_AS" -- test -x "$1")
}

# Creates a directory owned by the server's user (root makes it, then hands it over).
server_dir() {
  mkdir -p -- "$1"
  [[ -n "$RUN_AS" ]] && chown "$RUN_AS" -- "$1"
  chmod 700 -- "$1"
}

ready() { "$BIN_DIR/pg_isready" -q -h "$PG_HOST" -p "$POSTGRES_PORT" -d postgres -U "$PG_SUPERUSER" -t 2 >/dev/null 2>&1; }

# True when our cluster's postmaster is running (pg_ctl status: 0 running, 3 not, 4 no data dir).
running() {
  local dir="$1"
  [[ -f "$dir/PG_VERSION" ]] || return 1
  as_server "$BIN_DIR/pg_ctl" status -D "$dir" >/dev/null 2>&1
}

postmaster_pid() { head -n 1 -- "$1/postmaster.pid" 2>/dev/null || true; }

# True when something accepts TCP connections on the port.
port_open() {
  # shellcheck disable=SC2016 # $0/$1 are expanded by the inner bash.
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$PG_HOST" "$POSTGRES_PORT" 2>/dev/null
}

write_config() {
  local dir="$1" sockets="$2"
  cat >"$dir/mrw.conf" <<EOF
# Written by tools/postgres/postgres.sh on every 'up'; edits here are overwritten.
listen_addresses = '$PG_HOST'
port = $POSTGRES_PORT
unix_socket_directories = '$sockets'
# Durability is what the event store's figures measure: every commit is flushed to disk.
fsync = on
synchronous_commit = on
full_page_writes = on
# Each event store holds a pool and a listening connection; test runs open many at once.
max_connections = 200
shared_buffers = 128MB
log_min_messages = warning
log_line_prefix = '%m [%p] %a '
EOF
  [[ -n "$RUN_AS" ]] && chown "$RUN_AS" -- "$dir/mrw.conf"
  # Only the loopback address and the socket, both without a password.
  cat >"$dir/pg_hba.conf" <<EOF
# Written by tools/postgres/postgres.sh: a throwaway cluster on loopback, no passwords.
local all all              trust
host  all all 127.0.0.1/32 trust
EOF
  [[ -n "$RUN_AS" ]] && chown "$RUN_AS" -- "$dir/pg_hba.conf"
  return 0
}

print_failure() {
  printf '[postgres] error: %s\n' "$1" >&2
  if [[ -s "$2" ]]; then
    printf '[postgres] ----- last lines of %s -----\n' "$2" >&2
    tail -n 40 -- "$2" >&2 || true
  fi
}

# What `up` and `down` both need first: the binaries, the user to run them as, and the lock
# that lets one `up`/`down` at a time work on a port.
prepare_and_lock() {
  check_port_number
  find_binaries
  find_run_as
  mkdir -p -- "$RUN_DIR"
  exec 9>"$LOCK_FILE"
  flock 9
}

cmd_up() {
  prepare_and_lock

  local dir sockets logfile
  dir="$(data_dir)"
  if running "$dir"; then
    log "already running on $PG_HOST:$POSTGRES_PORT (pid $(postmaster_pid "$dir")); nothing to do"
    log "MRW_POSTGRES_URL=$(url)"
    return 0
  fi
  if port_open; then
    if ready; then
      log "a PostgreSQL server not started by this script already answers on $PG_HOST:$POSTGRES_PORT; nothing to do"
      log "MRW_POSTGRES_URL=$(url)"
      return 0
    fi
    die "port $POSTGRES_PORT is in use by something that is not PostgreSQL (set POSTGRES_PORT to another port)"
  fi

  local started
  started="$(now)"
  mkdir -p -- "$(dirname -- "$dir")"
  dir="$(cd -- "$(dirname -- "$dir")" && pwd -P)/$(basename -- "$dir")"
  sockets="$(socket_dir "$dir")"
  logfile="$(log_file "$dir")"
  ((${#sockets} + ${#POSTGRES_PORT} + 12 <= 107)) || die "socket path $sockets is too long for a unix socket (set POSTGRES_DATA_DIR to a shorter path)"
  printf '%s\n' "$dir" >"$DATADIR_FILE"
  server_dir "$sockets"
  touch -- "$logfile"
  [[ -n "$RUN_AS" ]] && chown "$RUN_AS" -- "$logfile"

  if [[ ! -f "$dir/PG_VERSION" ]]; then
    log "creating a cluster in $dir ($("$BIN_DIR/postgres" --version))…"
    server_dir "$dir"
    as_server "$BIN_DIR/initdb" -D "$dir" -U "$PG_SUPERUSER" --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
      >>"$logfile" 2>&1 || {
      print_failure "initdb failed" "$logfile"
      exit 1
    }
    # Our settings live in a file of their own that `up` rewrites; postgresql.conf stays as initdb wrote it.
    printf "\ninclude_if_exists = 'mrw.conf'\n" >>"$dir/postgresql.conf"
  fi
  write_config "$dir" "$sockets"

  log "starting PostgreSQL on $PG_HOST:$POSTGRES_PORT (data $dir, run as ${RUN_AS:-$(id -un)})…"
  if ! as_server "$BIN_DIR/pg_ctl" start -D "$dir" -l "$logfile" -w -t "$POSTGRES_START_TIMEOUT" -s >/dev/null 2>&1; then
    print_failure "the server did not start within ${POSTGRES_START_TIMEOUT}s" "$logfile"
    exit 1
  fi
  local deadline=$((SECONDS + POSTGRES_START_TIMEOUT))
  until ready; do
    if ((SECONDS >= deadline)); then
      print_failure "the server does not answer pg_isready within ${POSTGRES_START_TIMEOUT}s ('postgres.sh down' stops it)" "$logfile"
      exit 1
    fi
    sleep 0.2
  done
  if [[ "$("$BIN_DIR/psql" -h "$PG_HOST" -p "$POSTGRES_PORT" -U "$PG_SUPERUSER" -d postgres -XtAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'")" != 1 ]]; then
    "$BIN_DIR/psql" -h "$PG_HOST" -p "$POSTGRES_PORT" -U "$PG_SUPERUSER" -d postgres -XqAt -v ON_ERROR_STOP=1 \
      -c "CREATE DATABASE $PG_DATABASE" >/dev/null || die "could not create the database $PG_DATABASE"
  fi
  log "ready in $(elapsed_since "$started")s (pid $(postmaster_pid "$dir"), log $logfile)"
  log "MRW_POSTGRES_URL=$(url)"
}

cmd_down() {
  local purge=false arg
  for arg in "$@"; do
    case "$arg" in
      --purge) purge=true ;;
      *) die "unknown option for down: $arg" ;;
    esac
  done
  prepare_and_lock

  local dir
  dir="$(data_dir)"
  if running "$dir"; then
    log "stopping PostgreSQL on $PG_HOST:$POSTGRES_PORT (pid $(postmaster_pid "$dir"))…"
    local started
    started="$(now)"
    # fast: roll back open transactions and disconnect clients, then a clean shutdown checkpoint.
    as_server "$BIN_DIR/pg_ctl" stop -D "$dir" -m fast -w -t 60 -s ||
      as_server "$BIN_DIR/pg_ctl" stop -D "$dir" -m immediate -w -t 30 -s ||
      die "could not stop the server in $dir"
    log "stopped in $(elapsed_since "$started")s"
  else
    log "not running on port $POSTGRES_PORT; nothing to stop"
  fi

  if [[ "$purge" == true ]]; then
    if [[ -d "$dir" ]]; then
      log "removing data dir $dir"
      rm -rf -- "$dir" "$(socket_dir "$dir")"
    fi
    rm -f -- "$DATADIR_FILE"
  fi
}

cmd_status() {
  check_port_number
  find_binaries
  find_run_as
  local dir
  dir="$(data_dir)"
  if running "$dir"; then
    log "running on $PG_HOST:$POSTGRES_PORT (pid $(postmaster_pid "$dir"), $("$BIN_DIR/postgres" --version))"
    log "data: $dir"
    log "log:  $(log_file "$dir")"
    log "MRW_POSTGRES_URL=$(url)"
    return 0
  fi
  log "not running on port $POSTGRES_PORT"
  return 3
}

cmd_logs() {
  find_run_as
  local file
  file="$(log_file "$(data_dir)")"
  [[ -f "$file" ]] || die "no log yet at $file"
  if [[ "${1:-}" == "-f" ]]; then
    exec tail -n 100 -F -- "$file"
  fi
  tail -n "${1:-200}" -- "$file"
}

main() {
  local cmd="${1:-}"
  (($# > 0)) && shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    url)
      check_port_number
      url
      printf '\n'
      ;;
    logs) cmd_logs "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
