#!/usr/bin/env bash
# e2e: cut-over with --upstream-file + SIGHUP under continuous load fails no request. A slow request that
# started on the old upstream finishes there; every request after the switch reaches the new upstream
# (idle pooled connections to the old one are retired); wrk sees no error and no non-2xx answer.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
px_start_origin; a_port=$ORIGIN_PORT a_log=$ORIGIN_LOG
px_start_origin; b_port=$ORIGIN_PORT b_log=$ORIGIN_LOG
echo "http://127.0.0.1:$a_port" >"$tmp/upstream"
px_start_proxy --upstream-file "$tmp/upstream" --upstream "http://127.0.0.1:1" --workers 2
dur=$(px_slow 4 6)
wrk -t2 -c8 -d"${dur}s" "http://127.0.0.1:$PROXY_PORT/load" >"$tmp/wrk.txt" 2>&1 &
wrk_pid=$!
curl -s --max-time 20 -o "$tmp/slow" -w '%{http_code}' "http://127.0.0.1:$PROXY_PORT/slow?ms=2500" >"$tmp/slow.code" &
slow_pid=$!
for _ in $(seq 100); do grep -q '/slow' "$a_log" && break; sleep 0.05; done
grep -q '/slow' "$a_log" || td_fail "the slow request did not reach the old upstream"
sleep 0.5
echo "http://127.0.0.1:$b_port" >"$tmp/upstream.new" && mv "$tmp/upstream.new" "$tmp/upstream"
kill -HUP "$PROXY_PID"
wait "$slow_pid" || true
wait "$wrk_pid" || true
cat "$tmp/wrk.txt"
[ "$(cat "$tmp/slow.code")" = 200 ] && grep -q 'slow done' "$tmp/slow" || td_fail "the in-flight slow request failed across the cut-over"
grep -q 'Socket errors\|Non-2xx' "$tmp/wrk.txt" && td_fail "wrk saw failures across the cut-over"
n=$(awk '/requests in/ {print $1}' "$tmp/wrk.txt")
a_n=$(grep -c '/load' "$a_log") b_n=$(grep -c '/load' "$b_log")
echo "wrk: $n requests; old upstream served $a_n, new $b_n"
((a_n > 20 && b_n > 20)) || td_fail "load did not span the cut-over (old $a_n, new $b_n)"
# afterwards nothing reaches the old upstream, not even over pooled connections
before=$(wc -l <"$a_log")
for i in $(seq 1 30); do printf 'url = "http://127.0.0.1:%s/after"\noutput = "/dev/null"\n' "$PROXY_PORT"; done >"$tmp/urls"
curl -s -K "$tmp/urls"
[ "$(wc -l <"$a_log")" = "$before" ] || td_fail "requests reached the old upstream after the cut-over"
[ "$(grep -c '/after' "$b_log")" = 30 ] || td_fail "the new upstream did not get all 30 later requests"
errors=$(curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '/^tapedeck_proxy_upstream_errors_total/ {s += $2} END {print s}')
[ "$errors" = 0 ] || td_fail "$errors upstream errors during the cut-over"
px_stop_proxy
echo "ok: cut-over under load ($n requests), no failure; in-flight finished on the old upstream"
