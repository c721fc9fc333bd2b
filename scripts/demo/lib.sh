# shellcheck shell=bash
# Helpers for the demo and the pipeline tests (source it): start the demo service on a port it picks,
# find free ports, wait for listeners, and stop everything started here on exit.
# Every process started through demo_bg is remembered and stopped by demo_stop_all (call it from a trap).
DEMO_DIR=${DEMO_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
DEMO_PIDS=()

demo_bg() { # command...: start in the background, remember the pid in DEMO_LAST_PID
  "$@" &
  DEMO_LAST_PID=$!
  DEMO_PIDS+=("$DEMO_LAST_PID")
}

demo_run() { # command...: run it in the background and wait for it, so a signal reaches our trap at once
  demo_bg "$@"
  local rc=0
  wait "$DEMO_LAST_PID" || rc=$?
  return $rc
}

demo_stop() { # pid [seconds]: SIGTERM, wait up to the deadline, then SIGKILL; returns the exit status
  local pid=$1 deadline=$((SECONDS + ${2:-10})) rc=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "demo: process $pid did not stop within ${2:-10}s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  return $rc
}

demo_stop_all() {
  local p
  for p in "${DEMO_PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
  for p in "${DEMO_PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  DEMO_PIDS=()
  return 0
}

demo_free_port() { # a TCP port free on 127.0.0.1 right now
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

demo_wait_port() { # port [seconds [pid]]: until something listens on 127.0.0.1:port (or pid dies)
  local port=$1 deadline=$((SECONDS + ${2:-10})) pid=${3:-}
  while ((SECONDS < deadline)); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "demo: process $pid exited before listening on 127.0.0.1:$port" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "demo: nothing listens on 127.0.0.1:$port after ${2:-10}s" >&2
  return 1
}

# demo_service LOGFILE service-args...: start scripts/demo/service.js on a port it picks; sets
# DEMO_SVC_PID and DEMO_SVC_PORT once it prints "listening on PORT".
demo_service() {
  local log=$1 out deadline=$((SECONDS + 10)); shift
  out=$(mktemp "${TMPDIR:-/tmp}/tapedeck-demo-svc.XXXXXX")
  demo_bg node "$DEMO_DIR/service.js" "$@" >"$out" 2>>"$log"
  DEMO_SVC_PID=$DEMO_LAST_PID DEMO_SVC_PORT=""
  while ((SECONDS < deadline)); do
    DEMO_SVC_PORT=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$out")
    [ -n "$DEMO_SVC_PORT" ] && break
    kill -0 "$DEMO_SVC_PID" 2>/dev/null || break
    sleep 0.05
  done
  rm -f "$out"
  [ -n "$DEMO_SVC_PORT" ] || { echo "demo: the demo service ($*) did not start; see $log" >&2; return 1; }
}
