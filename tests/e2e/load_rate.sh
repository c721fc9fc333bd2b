#!/usr/bin/env bash
# e2e: `load --rate` against nginx holds the scheduled rate (achieved within 1% at 500/s for 4 s; 5% at a
# lower rate under ASan), sends exactly the scheduled requests, writes the JSON/JUnit/HTML reports, shows
# a progress line when asked, and exits 2 naming the target when nothing listens there.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/load_lib.bash"
td_tmpdir >/dev/null # sets TD_TMP in this shell, so helpers and cleanup share it
T=$(td_tmpdir)
PORT=$(td_free_port)
mkdir -p "$T/www"
td_nginx "$PORT" "$T/www" "location / { return 200 '{\"ok\":true}'; }"

mk_capture "$T/cap.warc.zst" 300 1000 10
RATE=500 DUR=4s WANT=2000 TOL=0.01
if [ -n "$ASAN" ]; then RATE=200 DUR=3s WANT=600 TOL=0.05; fi

set +e
"$REPLAY" load "$T/cap.warc.zst" --target "http://127.0.0.1:$PORT" --rate "$RATE/s" --duration "$DUR" \
  --slo 'p99<500ms' --slo 'rate>=99%' --slo 'error_rate<0.1%' \
  --report-json "$T/r.json" --junit "$T/r.xml" --html "$T/r.html" --progress >"$T/out" 2>"$T/err"
rc=$?
set -e
cat "$T/out"
[ "$rc" -eq 0 ] || { cat "$T/err"; td_fail "load exited $rc, expected 0"; }

sent=$(json_get "$T/r.json" "r['totals']['requests']")
[ "$sent" -eq "$WANT" ] || td_fail "sent $sent requests, scheduled $WANT"
ok=$(json_get "$T/r.json" "r['status'].get('200', 0)")
[ "$ok" -eq "$WANT" ] || td_fail "$ok responses 200 of $WANT"
python3 - "$T/r.json" "$TOL" "$RATE" <<'PY' || td_fail "rate off"
import json, sys
r = json.load(open(sys.argv[1])); tol = float(sys.argv[2]); want = float(sys.argv[3])
sch, ach = r['rate']['scheduled_rps'], r['rate']['achieved_rps']
print("# scheduled %.2f/s achieved %.2f/s (%.3f%%)" % (sch, ach, 100 * (ach / sch - 1)), file=sys.stderr)
assert abs(sch - want) / want < 0.001, "scheduled %f, asked %f" % (sch, want)
assert abs(ach - sch) / sch <= tol, "achieved %f vs scheduled %f" % (ach, sch)
for k in ('tool', 'version', 'mode', 'target', 'verdict', 'totals', 'latency_ms', 'service_ms', 'rate',
          'endpoints', 'gates', 'diffs', 'histogram'):
    assert k in r, k
for k in ('p50', 'p90', 'p95', 'p99', 'max', 'mean'):
    assert k in r['latency_ms'] and k in r['service_ms'], k
assert r['mode'] == 'load' and r['verdict'] == 'pass'
assert r['histogram']['latency']['count'] == r['totals']['matched']
assert len(r['gates']) == 3 and all(g['pass'] for g in r['gates'])
ep = r['endpoints'][0]
assert ep['route'] == '/api/trips/{id}' and ep['method'] == 'GET' and 'histogram' in ep
PY
grep -q 'PASS' "$T/out" || td_fail "no PASS in the text summary"
grep -q 'req/s' "$T/err" || td_fail "no progress line on stderr with --progress"
python3 -c "import xml.dom.minidom,sys; d=xml.dom.minidom.parse(sys.argv[1]); assert len(d.getElementsByTagName('testcase'))==3" "$T/r.xml" \
  || td_fail "JUnit: not 3 testcases"
grep -q '<svg' "$T/r.html" || td_fail "HTML without plots"
! grep -qE '<script|<link| src=' "$T/r.html" || td_fail "HTML loads something from outside"

# recorded timing: 100 requests 10 ms apart (a 1 s loop) at --speed 2 for 1.25 s: 2.5 loops of 0.5 s
mk_capture "$T/timed.warc.zst" 100 10000 7
"$REPLAY" load "$T/timed.warc.zst" --target "http://127.0.0.1:$PORT" --speed 2 --duration 1.25s \
  --report-json "$T/timed.json" --quiet || td_fail "--speed run failed"
python3 - "$T/timed.json" <<'PY' || td_fail "--speed/--duration schedule"
import json, sys
r = json.load(open(sys.argv[1]))
print("# --speed 2: %d requests, scheduled %.1f/s over %.2fs" % (r['totals']['requests'], r['rate']['scheduled_rps'],
      r['rate']['duration_s']), file=sys.stderr)
assert r['totals']['requests'] == 250, r['totals']       # due at k*5 ms, k < 250
assert abs(r['rate']['scheduled_rps'] - 200) < 0.5, r['rate']
assert 1.2 < r['rate']['duration_s'] < 3, r['rate']
PY

# the report re-renders the same verdict
"$REPLAY" report "$T/r.json" --quiet || td_fail "report of a passing run exits non-zero"

# an SLO that cannot hold: exit 1, the gate named
set +e
"$REPLAY" load "$T/cap.warc.zst" --target "http://127.0.0.1:$PORT" --rate 200/s --slo 'p50<1us' >"$T/out2" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || td_fail "broken SLO exited $rc, expected 1"
grep -q 'FAIL  p50<1us' "$T/out2" || td_fail "the broken gate is not named"

# nothing listens: exit 2, naming the target
DEAD=$(td_free_port)
set +e
"$REPLAY" load "$T/cap.warc.zst" --target "http://127.0.0.1:$DEAD" --rate 1000/s >"$T/out3" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || td_fail "unreachable target exited $rc, expected 2"
grep -q "127.0.0.1:$DEAD" "$T/out3" || td_fail "the unreachable target is not named: $(cat "$T/out3")"

# bad arguments: exit 2
set +e
"$REPLAY" load "$T/cap.warc.zst" --target "http://127.0.0.1:$PORT" --slo 'p99<fast' >"$T/out4" 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "p99<fast" "$T/out4" || td_fail "bad --slo: exit $rc, $(cat "$T/out4")"
set +e
"$REPLAY" load "$T/missing.warc.zst" --target "http://127.0.0.1:$PORT" >"$T/out5" 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "missing.warc.zst" "$T/out5" || td_fail "missing capture: exit $rc, $(cat "$T/out5")"
echo "ok"
