#!/usr/bin/env bash
# Noise: a capture recorded from the noisy service (random requestId, wall-clock serverTime in every JSON
# answer) fails a plain check against the same version, passes with --learn-noise and with --baseline
# (the Diffy method), lists the noise apart in the summary and the report, and still fails when a real
# change (distance turned into a string) hides among the noise. `tapedeck-replay report` re-renders
# each report to the summary the run printed.
source "$(dirname "$0")/../lib/common.sh"
td_tmpdir >/dev/null # sets TD_TMP in this shell, so helpers and cleanup share it
T=$(td_tmpdir)
SVC="node $ROOT/scripts/demo/service.js"
start_svc() {
    local p
    p=$(td_free_port)
    td_spawn $SVC --port "$p" "$@" >/dev/null
    td_wait_port "$p"
    SVC_PORT=$p
}
check() { # expected-exit name args...
    local want=$1 name=$2 rc=0
    shift 2
    "$BIN/tapedeck-replay" check "$T/rec.warc.zst" --no-progress --ignore '$.version' \
        --report-json "$T/$name.json" "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
    [ "$rc" = "$want" ] || { cat "$T/$name.out" "$T/$name.err" >&2; td_fail "$name: exit $rc, wanted $want"; }
}
same_text() { # name: `tapedeck-replay report NAME.json` prints what the run printed (one report writer)
    "$BIN/tapedeck-replay" report "$T/$1.json" >"$T/$1.rendered" || true
    cmp -s "$T/$1.out" "$T/$1.rendered" || { diff "$T/$1.out" "$T/$1.rendered" >&2 || true
        td_fail "$1: tapedeck-replay report renders another summary than the run printed"; }
}
report_has() {
    python3 - "$T/$1.json" "$2" <<'PY' || td_fail "$1: report check failed: $2"
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

start_svc --variant noisy
python3 "$ROOT/tests/lib/mkcapture_check.py" --target "http://127.0.0.1:$SVC_PORT" --out "$T/rec.warc.zst" \
    "$ROOT/tests/e2e/check/mydriving.json"

# Without noise detection the volatile fields are diffs.
start_svc --variant noisy
check 1 plain --target "http://127.0.0.1:$SVC_PORT"
report_has plain '{d["where"] for d in r["diffs"]} == {"$.requestId", "$.serverTime"}'
same_text plain

# --learn-noise: each (safe) request twice; what changes is noise.
start_svc --variant noisy
check 0 learn --target "http://127.0.0.1:$SVC_PORT" --learn-noise
grep -q 'noise set aside' "$T/learn.out" || td_fail "learn: noise not listed"
same_text learn
report_has learn 'r["totals"]["noise"] > 0 and r["totals"]["requests"] == 18 and not r["diffs"]'
report_has learn '{n["where"] for n in r["noise"]} == {"$.requestId", "$.serverTime"}'
# the same read through a window of one exchange: diffs wait for the end, when the noise is known
start_svc --variant noisy
check 0 learn-window --target "http://127.0.0.1:$SVC_PORT" --learn-noise --read-window 1
report_has learn-window 'r["totals"]["noise"] > 0 and r["totals"]["requests"] == 18 and not r["diffs"]'

# --baseline: a second deployment of the current version.
start_svc --variant noisy; cand=$SVC_PORT
start_svc --variant noisy; base=$SVC_PORT
check 0 baseline --target "http://127.0.0.1:$cand" --baseline "http://127.0.0.1:$base"
report_has baseline 'r["totals"]["noise"] > 0 and r["totals"]["matched"] == 18'

# A real change among the noise is still found, by either method, and only it is reported.
start_svc --variant noisy-regressed
check 1 learn-regressed --target "http://127.0.0.1:$SVC_PORT" --learn-noise
report_has learn-regressed '{d["where"] for d in r["diffs"]} == {"$.distance"}'
start_svc --variant noisy-regressed; cand=$SVC_PORT
start_svc --variant noisy; base=$SVC_PORT
check 1 baseline-regressed --target "http://127.0.0.1:$cand" --baseline "http://127.0.0.1:$base"
same_text baseline-regressed
report_has baseline-regressed '{(d["route"], d["where"]) for d in r["diffs"]} == {("/api/trips/{id}", "$.distance")}'
start_svc --variant noisy-regressed; cand=$SVC_PORT
start_svc --variant noisy; base=$SVC_PORT
check 1 baseline-regressed-window --target "http://127.0.0.1:$cand" --baseline "http://127.0.0.1:$base" --read-window 2
report_has baseline-regressed-window '{(d["route"], d["where"]) for d in r["diffs"]} == {("/api/trips/{id}", "$.distance")}'
grep -q '\$.distance: expected 1.341, got "1.341 km"' "$T/baseline-regressed.out" || td_fail "regression not shown"

# Noise inside lists: with wall-clock timestamps, every trip's createdAt/updatedAt differs from the
# recording, at $.items[i].createdAt in the lists; the baseline shows it at some positions, which covers
# all of them.
start_svc --variant v1 --clock wall
python3 "$ROOT/tests/lib/mkcapture_check.py" --target "http://127.0.0.1:$SVC_PORT" --out "$T/wall.warc.zst" \
    "$ROOT/tests/e2e/check/mydriving.json"
sleep 1 # the candidate's clock is a second later than the recording's
start_svc --variant v1 --clock wall; cand=$SVC_PORT
start_svc --variant v1 --clock wall; base=$SVC_PORT
rc=0
"$BIN/tapedeck-replay" check "$T/wall.warc.zst" --no-progress --target "http://127.0.0.1:$cand" \
    --baseline "http://127.0.0.1:$base" --report-json "$T/wall.json" >"$T/wall.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$T/wall.out" >&2; td_fail "wall: exit $rc, wanted 0"; }
report_has wall '("GET", "/api/trips", "$.items[*].createdAt") in {(n["method"], n["route"], n["where"]) for n in r["noise"]}'

# --ignore is the manual way: the same noise, declared.
start_svc --variant noisy
check 0 ignored --target "http://127.0.0.1:$SVC_PORT" --ignore '$..requestId' --ignore '$.serverTime'
echo "check_noise: ok"
