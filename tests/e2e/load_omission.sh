#!/usr/bin/env bash
# e2e: no coordinated omission. The origin stalls once for 500 ms; with one request in flight at a time
# (--max-inflight 1, one connection) the requests due during the stall wait in the replayer. A
# closed-loop tool would record one slow request; here latency, counted from each request's intended
# send time, shows the stall in its upper percentiles, while service time (from the actual send) shows
# one slow request only, and the report names the send lag.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/load_lib.bash"
td_tmpdir >/dev/null # sets TD_TMP in this shell, so helpers and cleanup share it
T=$(td_tmpdir)
PORT=$(td_free_port)
start_origin "$PORT" --stall-after 60 --stall-ms 500
# 300 requests at 100/s: the ~50 due during the stall wait behind it
mk_capture "$T/cap.warc.zst" 300 10000 5

set +e
"$REPLAY" load "$T/cap.warc.zst" --target "http://127.0.0.1:$PORT" --max-inflight 1 --connections 1 \
  --report-json "$T/r.json" >"$T/out" 2>&1
rc=$?
set -e
cat "$T/out"
[ "$rc" -eq 0 ] || td_fail "load exited $rc"
python3 - "$T/r.json" <<'PY' || td_fail "coordinated omission not accounted for"
import json, sys
r = json.load(open(sys.argv[1]))
lat, svc, lag = r['latency_ms'], r['service_ms'], r['rate']['lag_ms']
print("# latency p90 %.1f p99 %.1f max %.1f | service p90 %.1f p99 %.1f max %.1f | lag p99 %.1f"
      % (lat['p90'], lat['p99'], lat['max'], svc['p90'], svc['p99'], svc['max'], lag['p99']), file=sys.stderr)
assert r['totals']['requests'] == 300
# the stall itself: one request took ~500 ms of service time
assert svc['max'] >= 450, svc
# only one request was slow to serve: service p99 (3 of 300 above it) stays low
assert svc['p99'] < 100, svc
# but ~50 requests were late: latency from the intended send time shows it well past p90
assert lat['p90'] >= 100, lat
assert lat['p99'] >= 300, lat
assert lat['max'] >= 450, lat
assert lag['p99'] >= 300, lag   # the wait is reported as send lag
PY
echo ok
