#!/usr/bin/env bash
# e2e: scripts/replay-gate, the CI step. A short recording of the demo service through tapedeck-proxy, then
# the gate against candidates: the same version passes (exit 0) with all reports written; a broken one
# fails the check (exit 1) and the load gate is not run unless --keep-going; a slow route fails the load
# gate (exit 1); an unreachable target and bad arguments are trouble (exit 2).
source "$(dirname "$0")/../lib/common.sh"

for probe in "tapedeck-proxy --help" "tapedeck-replay check --help" "tapedeck-replay load --help"; do
  read -r b sub <<<"$probe"
  if ! "$BIN/$b" $sub >/dev/null 2>&1; then
    echo "skipped: '$probe' fails (not implemented yet)"
    exit 0
  fi
done

td_tmpdir >/dev/null # sets TD_TMP in this shell, so the cleanup removes it
T=$TD_TMP
GATE=$ROOT/scripts/replay-gate
svc() { # port variant: start the demo service (deterministic clock, ids from 1001)
  td_spawn node "$ROOT/scripts/demo/service.js" --port "$1" --variant "$2" --id-start 1001 >/dev/null 2>>"$T/svc.log"
  td_wait_port "$1"
}

# The recording: 2 users for 3 s through the proxy, closed with SIGTERM.
origin=$(td_free_port) proxy=$(td_free_port)
svc "$origin" v1
td_spawn "$BIN/tapedeck-proxy" --listen "127.0.0.1:$proxy" --upstream "http://127.0.0.1:$origin" \
  --capture-dir "$T/cap" 2>"$T/proxy.log"
proxy_pid=$TD_LAST_PID
td_wait_port "$proxy"
node "$ROOT/scripts/demo/traffic.js" --target "http://127.0.0.1:$proxy" --users 2 --duration 3 --think-ms 30 \
  || td_fail "traffic through the proxy failed"
kill -TERM "$proxy_pid"; wait "$proxy_pid" || td_fail "the proxy exited $? on SIGTERM"
ls "$T"/cap/*.warc.zst >/dev/null || td_fail "no closed capture segment"

gate() { # expected-exit name args...: run replay-gate into $T/name, check its exit status
  local want=$1 name=$2 rc=0; shift 2
  "$GATE" "$@" --out "$T/$name" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
  td_log "$name: exit $rc"; sed 's/^/    /' "$T/$name.out" >&2
  [ "$rc" = "$want" ] || { cat "$T/$name.err" >&2; td_fail "$name: replay-gate exited $rc, expected $want"; }
}
SLOS=(--slo 'error_rate<1%' --slo 'GET /api/pois: p50<25ms' --speed 4)

# 1. The same version: both gates pass, every report is there and well-formed.
port=$(td_free_port); svc "$port" v1
gate 0 same "$T/cap" --target "http://127.0.0.1:$port" "${SLOS[@]}"
for f in check.json check.junit.xml check.html check.txt load.json load.junit.xml load.html load.txt summary.txt; do
  [ -s "$T/same/$f" ] || td_fail "same: $f missing or empty"
done
python3 - "$T/same" <<'PY' || td_fail "same: reports do not say pass"
import json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
for g in ("check", "load"):
    r = json.load(open(f"{d}/{g}.json"))
    assert r["mode"] == g and r["verdict"] == "pass", (g, r["verdict"])
    ET.parse(f"{d}/{g}.junit.xml")
PY
grep -q '^verdict: pass' "$T/same/summary.txt" || td_fail "same: summary has no pass verdict"

# 2. A type change: the check fails, the step stops there (no load report), exit 1.
port=$(td_free_port); svc "$port" v2-broken
gate 1 broken "$T/cap" --target "http://127.0.0.1:$port" "${SLOS[@]}"
grep -q '^check: *FAIL' "$T/broken/summary.txt" || td_fail "broken: check not reported as FAIL"
grep -q '^load: *skipped' "$T/broken/summary.txt" || td_fail "broken: load not reported as skipped"
[ ! -e "$T/broken/load.json" ] || td_fail "broken: the load gate ran although the check failed"
grep -q 'distance' "$T/broken/check.json" || td_fail "broken: the check report does not name distance"
# ... and with --keep-going the load gate runs too (and passes), the exit status is still the check's.
gate 1 broken-kg "$T/cap" --target "http://127.0.0.1:$port" "${SLOS[@]}" --keep-going
grep -q '^load: *pass' "$T/broken-kg/summary.txt" || td_fail "broken --keep-going: load not run or not passed"

# 3. +40 ms on GET /api/pois: the check passes, the load gate fails on that route.
port=$(td_free_port); svc "$port" v2-slow
gate 1 slow "$T/cap" --target "http://127.0.0.1:$port" "${SLOS[@]}"
grep -q '^check: *pass' "$T/slow/summary.txt" || td_fail "slow: check did not pass"
grep -q '^load: *FAIL' "$T/slow/summary.txt" || td_fail "slow: load did not fail"
grep -q '/api/pois' "$T/slow/load.txt" || td_fail "slow: the load summary does not name /api/pois"

# 4. Trouble: an unreachable target, a missing capture, no target.
gate 2 unreachable "$T/cap" --target "http://127.0.0.1:$(td_free_port)" "${SLOS[@]}"
gate 2 nocapture "$T/does-not-exist" --target "http://127.0.0.1:$port"
grep -q "does-not-exist" "$T/nocapture.err" || td_fail "nocapture: the error does not name the capture"
gate 2 notarget "$T/cap"
echo "ok: replay-gate exit statuses and reports"
