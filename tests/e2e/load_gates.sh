#!/usr/bin/env bash
# e2e: the load gates decide. Three python origins: A and B identical, S answering /api/slow/* 40 ms
# later. --compare: identical deployments pass (twice: repeated runs agree), the +40 ms route fails and
# is named. --slo on a route: fails on S, passes on A. --baseline-report: a run on S against A's report
# fails, a run on B against it passes.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/load_lib.bash"
td_tmpdir >/dev/null # sets TD_TMP in this shell, so helpers and cleanup share it
T=$(td_tmpdir)
PA=$(td_free_port); PB=$(td_free_port); PS=$(td_free_port)
start_origin "$PA"
start_origin "$PB"
start_origin "$PS" --delay /api/slow=40
# 600 requests at 200/s over 30 connections; one in four on /api/slow/N
mk_capture "$T/cap.warc.zst" 600 5000 30 "('/api/slow/%d' if i % 4 == 0 else '/api/trips/%d') % i"
A=http://127.0.0.1:$PA B=http://127.0.0.1:$PB S=http://127.0.0.1:$PS

run() { # expected-exit name args...
  local want=$1 name=$2 rc; shift 2
  set +e
  "$REPLAY" load "$T/cap.warc.zst" "$@" --report-json "$T/$name.json" >"$T/$name.out" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne "$want" ]; then cat "$T/$name.out"; td_fail "$name: exit $rc, expected $want"; fi
  td_log "$name: exit $rc as expected"
}

# identical deployments pass, run after run
run 0 same1 --target "$A" --compare "$B"
run 0 same2 --target "$B" --compare "$A"
# the candidate with a slow route fails, on that route
run 1 slow --target "$S" --compare "$A"
grep -q 'FAIL  GET /api/slow/{id}: p50 vs baseline' "$T/slow.out" || { cat "$T/slow.out"; td_fail "slow route not named"; }
! grep -q 'FAIL  GET /api/trips/{id}' "$T/slow.out" || { cat "$T/slow.out"; td_fail "the unchanged route failed"; }
python3 - "$T/slow.json" <<'PY' || td_fail "compare report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r['verdict'] == 'fail' and r['baseline']['target'].startswith('http://')
slow = [e for e in r['endpoints'] if e['route'] == '/api/slow/{id}'][0]
assert slow['latency_ms']['p50'] - slow['baseline']['latency_ms']['p50'] > 30
# both sides got every request
assert r['totals']['requests'] == 600 and r['baseline']['totals']['requests'] == 600
PY

# SLOs per route. The slow route's +40 ms fails a 30 ms SLO on any machine; the limits that must pass
# are wide, because a Python origin on a loaded 2-core box answers in tens to hundreds of milliseconds.
run 1 slo_slow --target "$S" --slo 'GET /api/slow/{id}: p95<30ms' --slo 'GET /api/trips/{id}: p95<2s'
grep -q 'FAIL  GET /api/slow/{id}: p95<30ms' "$T/slo_slow.out" || td_fail "route SLO not named"
grep -q 'pass  GET /api/trips/{id}: p95<2s' "$T/slo_slow.out" || td_fail "other route SLO not passed"
run 0 slo_fast --target "$A" --slo 'GET /api/slow/{id}: p95<2s' --slo 'p99<3s' --slo 'error_rate<1%'

# against an earlier report
run 0 base --target "$A"
run 1 vs_base_slow --target "$S" --baseline-report "$T/base.json"
grep -q 'FAIL  GET /api/slow/{id}: p50 vs baseline report' "$T/vs_base_slow.out" || td_fail "baseline-report gate"
run 0 vs_base_same --target "$B" --baseline-report "$T/base.json" --max-regression 50% --regression-floor 20ms
echo ok
