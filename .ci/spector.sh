#!/usr/bin/env bash
# Spector, the Azure SDKs' mock server for TypeSpec specs, for the external
# LRO suite in azure/spector_test.go.
#
#   .ci/spector.sh start   install if needed, start on 127.0.0.1 (a free port),
#                          print the variables for eval: LROKIT_SPECTOR_URL
#                          and LROKIT_SPECTOR_RUN (a new value per server, so
#                          go test's cache never reuses a result got from
#                          an earlier server)
#   .ci/spector.sh stop    stop the server started from this checkout
#
# The pinned packages (.ci/spector/package.json and its lock) install under
# ${LROKIT_CACHE:-$HOME/.cache/lrokit}, keyed by the lock's hash. Run state
# (pid, port, log, coverage file) lives in .ci/spector/.run. Logs go to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pkg="$here/spector"
run="$pkg/.run"

log() { printf 'spector: %s\n' "$*" >&2; }

install() {
  local hash dir
  hash=$(cat "$pkg/package.json" "$pkg/package-lock.json" | sha256sum | cut -c1-16)
  dir="${LROKIT_CACHE:-$HOME/.cache/lrokit}/spector-$hash"
  if [ ! -f "$dir/.installed" ]; then
    log "installing the pinned packages into $dir"
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$pkg/package.json" "$pkg/package-lock.json" "$dir/"
    # No install scripts: the packages are plain JavaScript.
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    touch "$dir/.installed"
  fi
  echo "$dir"
}

env_lines() {
  echo "export LROKIT_SPECTOR_URL=http://127.0.0.1:$(cat "$run/port")"
  echo "export LROKIT_SPECTOR_RUN=$(cat "$run/pid")-$(stat -c %Y "$run/pid")"
}

start() {
  if [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null; then
    log "already running (pid $(cat "$run/pid"))"
    env_lines
    return
  fi
  local dir specs
  dir=$(install)
  specs="$dir/node_modules/@azure-tools/azure-http-specs"
  rm -rf "$run" && mkdir -p "$run"
  # serve runs `git rev-parse HEAD` for its coverage metadata, and the
  # package is no git checkout: give it a scratch repository.
  git init -q "$run/git"
  GIT_AUTHOR_NAME=lrokit GIT_AUTHOR_EMAIL=ci@lrokit.invalid \
    GIT_COMMITTER_NAME=lrokit GIT_COMMITTER_EMAIL=ci@lrokit.invalid \
    git -C "$run/git" commit -q --allow-empty -m spector
  (
    cd "$specs"
    GIT_DIR="$run/git/.git" SPECTOR_PORT_FILE="$run/port" \
      exec node -r "$pkg/loopback.cjs" "$dir/node_modules/@typespec/spector/cmd/cli.mjs" \
      serve ./specs --port 0 --coverageFile "$run/coverage.json"
  ) >"$run/log" 2>&1 </dev/null &
  echo $! >"$run/pid"
  for _ in $(seq 1 300); do
    if [ -s "$run/port" ] && curl -fsS -o /dev/null "http://127.0.0.1:$(cat "$run/port")/.coverage"; then
      log "ready on 127.0.0.1:$(cat "$run/port") (pid $(cat "$run/pid"))"
      env_lines
      return
    fi
    if ! kill -0 "$(cat "$run/pid")" 2>/dev/null; then
      log "the server exited:"; cat "$run/log" >&2; exit 1
    fi
    sleep 0.1
  done
  log "not ready after 30s:"; cat "$run/log" >&2
  stop
  exit 1
}

stop() {
  [ -f "$run/pid" ] || return 0
  local pid
  pid=$(cat "$run/pid")
  if kill -0 "$pid" 2>/dev/null; then
    # The admin endpoint exits cleanly, so Spector saves its coverage file.
    [ -s "$run/port" ] && curl -fsS -o /dev/null -X POST "http://127.0.0.1:$(cat "$run/port")/.admin/stop" || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill "$pid" 2>/dev/null || true
  fi
  rm -f "$run/pid"
  log "stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
