#!/usr/bin/env bash
# e2e: the HTTP/1.1 pool and --max-inflight. The origin takes 200 ms per answer and requests fall due
# every 25 ms, so about 8 would be in flight at once. With --connections 2 alone the pool stays at two
# (the report's rate.inflight_peak, one request per connection on HTTP/1.1) and the others wait in the
# replayer, as send lag; with --max-inflight 8 the pool grows past --connections, up to 8, and every
# request goes out on time.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/load_lib.bash"
td_tmpdir >/dev/null
T=$(td_tmpdir)
PORT=$(td_free_port)
start_origin "$PORT" --delay /api=200
mk_capture "$T/cap.warc.zst" 40 25000 4

run_load() { # report.json extra-args...
  local out=$1; shift
  "$REPLAY" load "$T/cap.warc.zst" --target "http://127.0.0.1:$PORT" --connections 2 --no-progress --quiet \
    --report-json "$out" "$@" >"$T/out" 2>&1 || { cat "$T/out"; td_fail "load $* failed"; }
}
run_load "$T/fixed.json"
run_load "$T/grow.json" --max-inflight 8

python3 - "$T/fixed.json" "$T/grow.json" <<'PY' || td_fail "pool"
import json, sys
fixed, grow = (json.load(open(f)) for f in sys.argv[1:])
for r in (fixed, grow):
    assert r['totals']['requests'] == 40 and r['status'].get('200') == 40, r['totals']
    assert r['config']['connections'] == 2
fr, gr = fixed['rate'], grow['rate']
print("# fixed: peak %d, lag p99 %.1f ms; --max-inflight 8: peak %d, lag p99 %.1f ms"
      % (fr['inflight_peak'], fr['lag_ms']['p99'], gr['inflight_peak'], gr['lag_ms']['p99']), file=sys.stderr)
assert fixed['config']['max_inflight'] == 2 and grow['config']['max_inflight'] == 8
assert fr['inflight_peak'] == 2, fr['inflight_peak']          # never more than the pool
assert 2 < gr['inflight_peak'] <= 8, gr['inflight_peak']      # grew past it, within the limit
# with two connections for ~8 requests' worth of work, most requests waited behind the pool
assert fr['lag_ms']['p50'] >= 50, fr['lag_ms']
PY
echo ok
