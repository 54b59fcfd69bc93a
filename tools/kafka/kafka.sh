#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for development
# and tests, run from the Kafka jars on Maven Central: no Docker, no Kafka download.
#
#   kafka.sh up                 fetch jars (first run), format storage, start, wait until ready
#   kafka.sh down [--purge]     stop (SIGTERM, then SIGKILL after 30 s); --purge deletes the data
#   kafka.sh status             exit 0 when running, 3 when not
#   kafka.sh logs [-f]          tail the broker log
#   kafka.sh run-class CLASS …  run a Kafka main class (e.g. org.apache.kafka.tools.TopicCommand)
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1000),
# KAFKA_DATA_DIR (tools/kafka/.cache/data-$KAFKA_PORT), KAFKA_HEAP ("-Xms256m -Xmx512m"),
# KAFKA_START_TIMEOUT (90 seconds). See README.md beside this file.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
POM="$SCRIPT_DIR/pom.xml"
CACHE_DIR="$SCRIPT_DIR/.cache"
LIBS_DIR="$CACHE_DIR/libs"
LIBS_STAMP="$CACHE_DIR/libs.stamp"
RUN_DIR="$CACHE_DIR/run"

KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1000))}"
KAFKA_HEAP="${KAFKA_HEAP:--Xms256m -Xmx512m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT=30

PID_FILE="$RUN_DIR/kafka-$KAFKA_PORT.pid"
DATADIR_FILE="$RUN_DIR/kafka-$KAFKA_PORT.datadir"
LOCK_FILE="$RUN_DIR/kafka-$KAFKA_PORT.lock"
LOG_DIR="$CACHE_DIR/logs/$KAFKA_PORT"
LOG_FILE="$LOG_DIR/server.log"
OUT_FILE="$LOG_DIR/stdout.log"

log() { printf '[kafka] %s\n' "$*"; }
die() { printf '[kafka] error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

check_port_number() {
  local name="$1" value="$2"
  if ! [[ "$value" =~ ^[0-9]+$ ]] || ((value < 1 || value > 65535)); then
    die "$name must be a TCP port number (got '$value')"
  fi
}

# The data dir of the broker on this port: the one recorded by `up`, else the configured one.
data_dir() {
  if [[ -n "${KAFKA_DATA_DIR:-}" ]]; then
    printf '%s' "$KAFKA_DATA_DIR"
  elif [[ -s "$DATADIR_FILE" ]]; then
    cat -- "$DATADIR_FILE"
  else
    printf '%s' "$CACHE_DIR/data-$KAFKA_PORT"
  fi
}

require_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH (Java 17+ is needed)"
  local spec
  spec="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ { print $2; exit }')"
  if ! [[ "$spec" =~ ^[0-9]+$ ]] || ((spec < 17)); then
    die "Kafka 4 needs Java 17 or newer (java on PATH is '${spec:-unknown}')"
  fi
}

pom_hash() { sha256sum -- "$POM" | awk '{ print $1 }'; }

jars_present() {
  [[ -f "$LIBS_STAMP" && -d "$LIBS_DIR" ]] && [[ "$(cat -- "$LIBS_STAMP")" == "$(pom_hash)" ]]
}

# Copies kafka_2.13, kafka-tools, the SLF4J binding and all their runtime dependencies into
# .cache/libs. Runs Maven only when the stamp (hash of pom.xml) is missing or stale.
fetch_jars() {
  if jars_present; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH (Maven fetches the Kafka jars)"
  mkdir -p -- "$CACHE_DIR"
  local started tmp mvn_log
  started="$(now)"
  tmp="$CACHE_DIR/libs.tmp.$$"
  mvn_log="$CACHE_DIR/mvn.log"
  log "fetching Kafka jars with Maven (first run only)…"
  rm -rf -- "$tmp"
  if ! mvn -B -q -f "$POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    tail -n 40 -- "$mvn_log" >&2 || true
    rm -rf -- "$tmp"
    die "Maven could not fetch the Kafka jars (full output: $mvn_log)"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || die "Maven ran, but no kafka_2.13 jar in $tmp"
  # The SLF4J binding must match log4j-core (pom.xml: log4j.version), and must be the SLF4J 1.x
  # binding while Kafka pulls slf4j-api 1.7 (log4j-slf4j2-impl would leave the broker silent).
  local core binding
  core="$(compgen -G "$tmp/log4j-core-*.jar" | head -n 1)"
  binding="$(compgen -G "$tmp/log4j-slf4j-impl-*.jar" | head -n 1)"
  if [[ -z "$core" || -z "$binding" || "${core##*/log4j-core-}" != "${binding##*/log4j-slf4j-impl-}" ]]; then
    log "warning: log4j-core and log4j-slf4j-impl versions differ (${core##*/}, ${binding##*/}); set log4j.version in $POM"
  fi
  rm -rf -- "$LIBS_DIR"
  mv -- "$tmp" "$LIBS_DIR"
  pom_hash >"$LIBS_STAMP"
  log "fetched $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars ($(du -sh -- "$LIBS_DIR" | awk '{ print $1 }')) in $(elapsed_since "$started")s"
}

kafka_version() {
  local jar
  jar="$(compgen -G "$LIBS_DIR/kafka_2.13-*.jar" | head -n 1)"
  jar="${jar##*/kafka_2.13-}"
  printf '%s' "${jar%.jar}"
}

# Runs a Kafka main class in the foreground with a small heap and quiet logging.
run_class() {
  (($# >= 1)) || die "usage: kafka.sh run-class MAIN_CLASS [ARGS…]"
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$SCRIPT_DIR/tools-log4j2.properties" \
    -cp "$LIBS_DIR/*" "$@"
}

# True when something accepts TCP connections on the port.
port_open() {
  # shellcheck disable=SC2016 # $0/$1 are expanded by the inner bash.
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$KAFKA_HOST" "$1" 2>/dev/null
}

# True when a Kafka broker answers a real metadata request (list topics) on the port.
kafka_answers() {
  local client_config="$RUN_DIR/probe-client.properties"
  [[ -f "$client_config" ]] ||
    printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=8000\n' >"$client_config"
  timeout 30 java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$SCRIPT_DIR/tools-log4j2.properties" \
    -cp "$LIBS_DIR/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" --list \
    --command-config "$client_config" \
    >/dev/null 2>&1
}

# The pid of the broker this script started on this port, if it is still running.
running_pid() {
  [[ -s "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat -- "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: it must still be our kafka.Kafka JVM.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  printf '%s' "$pid"
}

write_server_properties() {
  local dir="$1"
  cat >"$dir/server.properties" <<EOF
# Written by tools/kafka/kafka.sh on every 'up'; edits here are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/kraft-logs

# One node: every internal topic with one replica.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1

# Fast consumer-group joins in tests.
group.initial.rebalance.delay.ms=0
# The suite creates its topics explicitly.
auto.create.topics.enable=false
delete.topic.enable=true

# Small footprint.
num.network.threads=2
num.io.threads=4
log.retention.hours=168
log.segment.bytes=67108864
EOF
}

cmd_up() {
  check_port_number KAFKA_PORT "$KAFKA_PORT"
  check_port_number KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  mkdir -p -- "$RUN_DIR"
  # One `up`/`down` at a time per port (fd 9 is closed for the broker, see below).
  exec 9>"$LOCK_FILE"
  flock 9

  local pid
  if pid="$(running_pid)"; then
    log "already running on $KAFKA_HOST:$KAFKA_PORT (pid $pid); nothing to do"
    log "KAFKA_BROKERS=$KAFKA_HOST:$KAFKA_PORT"
    return 0
  fi
  rm -f -- "$PID_FILE"

  require_java
  fetch_jars

  if port_open "$KAFKA_PORT"; then
    if kafka_answers; then
      log "a Kafka broker not started by this script already answers on $KAFKA_HOST:$KAFKA_PORT; nothing to do"
      log "KAFKA_BROKERS=$KAFKA_HOST:$KAFKA_PORT"
      return 0
    fi
    die "port $KAFKA_PORT is in use by something that is not Kafka (set KAFKA_PORT to another port)"
  fi
  port_open "$KAFKA_CONTROLLER_PORT" &&
    die "controller port $KAFKA_CONTROLLER_PORT is in use (set KAFKA_CONTROLLER_PORT)"

  local started dir
  started="$(now)"
  dir="$(data_dir)"
  mkdir -p -- "$dir" "$LOG_DIR"
  dir="$(cd -- "$dir" && pwd -P)"
  printf '%s\n' "$dir" >"$DATADIR_FILE"
  write_server_properties "$dir"

  if [[ ! -f "$dir/kraft-logs/meta.properties" ]]; then
    log "formatting KRaft storage in $dir…"
    # A cluster id is 16 random bytes, base64url without padding. One that starts with '-' (1 in
    # 64) would be read by the tool as an option and the format would fail: draw again.
    local cluster_id="-"
    while [[ "$cluster_id" == -* ]]; do
      cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    done
    run_class kafka.tools.StorageTool format --ignore-formatted \
      --cluster-id "$cluster_id" --config "$dir/server.properties" >>"$OUT_FILE" 2>&1 || {
      tail -n 30 -- "$OUT_FILE" >&2 || true
      die "formatting the storage failed (see $OUT_FILE)"
    }
  fi

  log "starting Kafka $(kafka_version) on $KAFKA_HOST:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT, data $dir)…"
  {
    printf '\n===== %s: kafka.sh up (port %s) =====\n' "$(date -Is)" "$KAFKA_PORT"
  } >>"$OUT_FILE"
  # shellcheck disable=SC2086 # KAFKA_HEAP holds several JVM flags on purpose.
  setsid nohup java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2.properties" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$dir/server.properties" \
    </dev/null >>"$OUT_FILE" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) phase=tcp
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f -- "$PID_FILE"
      print_failure "the broker exited during startup"
      exit 1
    fi
    if [[ "$phase" == tcp ]] && port_open "$KAFKA_PORT"; then
      phase=api
    fi
    if [[ "$phase" == api ]] && kafka_answers; then
      break
    fi
    if ((SECONDS >= deadline)); then
      print_failure "the broker did not answer within ${KAFKA_START_TIMEOUT}s (still running as pid $pid; 'kafka.sh down' stops it)"
      exit 1
    fi
    sleep 0.5
  done
  log "broker ready in $(elapsed_since "$started")s (pid $pid, log $LOG_FILE)"
  log "KAFKA_BROKERS=$KAFKA_HOST:$KAFKA_PORT"
}

print_failure() {
  printf '[kafka] error: %s\n' "$1" >&2
  local f
  for f in "$OUT_FILE" "$LOG_FILE"; do
    if [[ -s "$f" ]]; then
      printf '[kafka] ----- last lines of %s -----\n' "$f" >&2
      tail -n 40 -- "$f" >&2 || true
    fi
  done
}

cmd_down() {
  local purge=false arg
  for arg in "$@"; do
    case "$arg" in
      --purge) purge=true ;;
      *) die "unknown option for down: $arg" ;;
    esac
  done
  mkdir -p -- "$RUN_DIR"
  exec 9>"$LOCK_FILE"
  flock 9

  local pid dir
  dir="$(data_dir)"
  if pid="$(running_pid)"; then
    log "stopping broker on $KAFKA_HOST:$KAFKA_PORT (pid $pid)…"
    local started
    started="$(now)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    log "stopped in $(elapsed_since "$started")s"
  else
    log "not running on port $KAFKA_PORT; nothing to stop"
  fi
  rm -f -- "$PID_FILE"

  if [[ "$purge" == true ]]; then
    if [[ -d "$dir" ]]; then
      log "removing data dir $dir"
      rm -rf -- "$dir"
    fi
    rm -f -- "$DATADIR_FILE"
  fi
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    log "running on $KAFKA_HOST:$KAFKA_PORT (pid $pid, Kafka $(kafka_version))"
    log "data: $(data_dir)"
    log "log:  $LOG_FILE"
    return 0
  fi
  log "not running on port $KAFKA_PORT"
  return 3
}

cmd_logs() {
  [[ -f "$LOG_FILE" ]] || die "no log yet at $LOG_FILE"
  if [[ "${1:-}" == "-f" ]]; then
    exec tail -n 100 -F -- "$LOG_FILE"
  fi
  tail -n "${1:-200}" -- "$LOG_FILE"
}

main() {
  local cmd="${1:-}"
  (($# > 0)) && shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    logs) cmd_logs "$@" ;;
    run-class)
      require_java
      fetch_jars
      run_class "$@"
      ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
