#!/usr/bin/env bash
# check against the MyDriving-like service: a capture recorded from v1 passes against a fresh v1, fails
# against each regressed variant with the JSON path / status named in the summary and the JSON report,
# replays a create -> read -> update -> delete chain against a candidate numbering ids from 1000
# (correlation on: pass; --no-correlate: fail), writes JUnit and HTML, and exits 2 on an unreachable
# target naming the address.
source "$(dirname "$0")/../lib/common.sh"
td_tmpdir >/dev/null # sets TD_TMP in this shell, so helpers and cleanup share it
T=$(td_tmpdir)
SVC="node $ROOT/scripts/demo/service.js"

start_svc() { # args...: a fresh service on a free port; prints the port
    local p
    p=$(td_free_port)
    td_spawn $SVC --port "$p" "$@" >/dev/null
    td_wait_port "$p"
    SVC_PORT=$p
}

start_svc --variant v1
python3 "$ROOT/tests/lib/mkcapture_check.py" --target "http://127.0.0.1:$SVC_PORT" --out "$T/rec.warc.zst" \
    "$ROOT/tests/e2e/check/mydriving.json"

check() { # expected-exit name args...
    local want=$1 name=$2 rc=0
    shift 2
    "$BIN/tapedeck-replay" check "$T/rec.warc.zst" --no-progress "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
    [ "$rc" = "$want" ] || { cat "$T/$name.out" "$T/$name.err" >&2; td_fail "$name: exit $rc, wanted $want"; }
}
report_has() { # name python-expression over r (the report): must be true
    python3 - "$T/$1.json" "$2" <<'PY' || td_fail "$1: report check failed: $2"
import json, sys
r = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
if not ok:
    print(json.dumps({k: r[k] for k in ("verdict", "totals", "diffs")}, indent=1)[:3000], file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

# 1. stable: a fresh v1 answers exactly as recorded
start_svc --variant v1
check 0 stable --target "http://127.0.0.1:$SVC_PORT" --report-json "$T/stable.json" --junit "$T/stable.xml" \
    --html "$T/stable.html"
grep -q "PASS" "$T/stable.out" || td_fail "stable: no PASS in the summary"
report_has stable 'r["mode"] == "check" and r["verdict"] == "pass" and r["totals"]["requests"] == 18 and r["totals"]["matched"] == 18'
report_has stable 'any(e["route"] == "/api/trips/{id}" and e["method"] == "GET" for e in r["endpoints"])'
python3 -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" "$T/stable.xml" || td_fail "JUnit is not XML"
grep -qi "<html" "$T/stable.html" || td_fail "no HTML page"
! grep -Eq '(src|href)="https?://' "$T/stable.html" || td_fail "the HTML page fetches from the network"

# 2. a field removed: named by its path
start_svc --variant removed-field
check 1 removed --target "http://127.0.0.1:$SVC_PORT" --ignore '$.version' --report-json "$T/removed.json"
grep -q '\$.pointCount: expected 2, got (missing)' "$T/removed.out" || td_fail "removed: \$.pointCount not named"
report_has removed 'r["verdict"] == "fail" and all(d["where"].endswith("pointCount") for d in r["diffs"]) and r["diffs"]'

# 3. a type changed (number -> string) on GET /api/trips/{id} only
start_svc --variant v2-broken
check 1 typechange --target "http://127.0.0.1:$SVC_PORT" --ignore '$.version' --report-json "$T/typechange.json"
grep -q '\$.distance: expected 1.341, got "1.341 km"' "$T/typechange.out" || td_fail "typechange: \$.distance not named"
report_has typechange '{(d["method"], d["route"], d["where"]) for d in r["diffs"]} == {("GET", "/api/trips/{id}", "$.distance")}'

# 4. a status changed
start_svc --variant status-changed
check 1 status --target "http://127.0.0.1:$SVC_PORT" --ignore '$.version' --report-json "$T/status.json" --junit "$T/status.xml"
grep -q 'status: expected 200, got 500' "$T/status.out" || td_fail "status: not named"
report_has status '[d["route"] for d in r["diffs"] if d["where"] == "status"] == ["/api/pois", "/api/pois"]'
grep -q "<failure" "$T/status.xml" || td_fail "status: JUnit has no failure"
# --path / --method filters: only the untouched routes -> pass
start_svc --variant status-changed
check 0 status-filtered --target "http://127.0.0.1:$SVC_PORT" --ignore '$.version' --path '^/api/(trips|users)'
grep -q "GET /api/pois" "$T/status-filtered.out" && td_fail "status-filtered: /api/pois was replayed"
start_svc --variant status-changed
check 1 status-method --target "http://127.0.0.1:$SVC_PORT" --ignore '$.version' --method GET --method HEAD
grep -q "POST /api/trips" "$T/status-method.out" && td_fail "status-method: a POST was replayed"

# 5. correlation: the candidate numbers trips from 1000; the chain still replays cleanly
start_svc --variant v1 --id-start 1000
check 0 correlated --target "http://127.0.0.1:$SVC_PORT" --report-json "$T/correlated.json"
grep -q "2 ids correlated" "$T/correlated.out" || td_fail "correlated: expected 2 ids mapped"
# the same through a read window of one exchange (check streams: what a long capture sees)
start_svc --variant v1 --id-start 1000
check 0 correlated-window --target "http://127.0.0.1:$SVC_PORT" --read-window 1 --report-json "$T/correlated-window.json"
grep -q "2 ids correlated" "$T/correlated-window.out" || td_fail "correlated, --read-window 1: expected 2 ids mapped"
report_has correlated-window 'r["totals"]["matched"] == 18'
start_svc --variant v1 --id-start 1000
check 1 uncorrelated --target "http://127.0.0.1:$SVC_PORT" --no-correlate --report-json "$T/uncorrelated.json"
report_has uncorrelated 'any(d["where"] == "$.id" and d["actual"] == "1000" for d in r["diffs"])'
report_has uncorrelated 'any(d["where"] == "status" and d["actual"] == "404" for d in r["diffs"])'

# 6. --max-diff-rate: 3 of 18 differ on v2-broken (16.7%)
start_svc --variant v2-broken
check 0 rate-ok --target "http://127.0.0.1:$SVC_PORT" --ignore '$.version' --sequential --max-diff-rate 20%
start_svc --variant v2-broken
check 1 rate-low --target "http://127.0.0.1:$SVC_PORT" --ignore '$.version' --max-diff-rate 0.1

# 7. a slow route against a short --timeout: transport errors, counted and reported (not trouble)
start_svc --variant v2-slow
check 1 timeout --target "http://127.0.0.1:$SVC_PORT" --ignore '$.version' --timeout 20ms --report-json "$T/timeout.json"
report_has timeout 'r["totals"]["errors"] >= 2 and any(d["where"] == "transport" and d["route"] == "/api/pois" and "imed out" in d["actual"] for d in r["diffs"])'

# 8. trouble: unreachable target, bad flags, unreadable capture
dead=$(td_free_port)
check 2 unreachable --target "http://127.0.0.1:$dead"
grep -q "127.0.0.1:$dead" "$T/unreachable.err" || td_fail "unreachable: the address is not named"
grep -qi "connect" "$T/unreachable.err" || td_fail "unreachable: no reason given"
check 2 nothing --target "http://127.0.0.1:$dead" --path '^/nowhere'
grep -q "nothing to replay: 18 exchanges" "$T/nothing.err" || td_fail "an empty selection is not explained"
check 2 badflag --target "http://127.0.0.1:$dead" --ignore 'a.b'
grep -q "bad JSONPath 'a.b'" "$T/badflag.err" || td_fail "bad --ignore not explained"
rc=0; "$BIN/tapedeck-replay" check "$T/nope.warc.zst" --target "http://127.0.0.1:$dead" 2>"$T/nofile.err" || rc=$?
[ "$rc" = 2 ] || td_fail "missing capture: exit $rc"
grep -q "nope.warc.zst" "$T/nofile.err" || td_fail "missing capture not named"
echo "check_mydriving: ok"
