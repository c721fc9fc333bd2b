#!/usr/bin/env bash
# e2e: binary upgrade with SO_REUSEPORT. A second proxy starts on the same address beside the first
# (no "address in use"), both answer; after the first is drained with SIGTERM (its /healthz says
# "draining" meanwhile), the second keeps serving every request. /healthz answers "ok" otherwise.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
px_start_origin
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --drain-timeout 10s
old_pid=$PROXY_PID old_admin=$ADMIN_PORT port=$PROXY_PORT
[ "$(curl -fsS "http://127.0.0.1:$old_admin/healthz")" = ok ] || td_fail "/healthz is not ok"
new_admin=$(td_free_port)
td_spawn "$BIN/tapedeck-proxy" --listen "127.0.0.1:$port" --admin "127.0.0.1:$new_admin" \
  --upstream "http://127.0.0.1:$ORIGIN_PORT" 2>"$tmp/new.log"
new_pid=$TD_LAST_PID
td_wait_port "$new_admin"
kill -0 "$new_pid" || { cat "$tmp/new.log"; td_fail "the second proxy could not start beside the first"; }
for i in $(seq 1 20); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/both-$i" || td_fail "request $i failed with two proxies"
done
# a slow request keeps the old one draining for a moment, so its /healthz can be seen saying so
curl -s -o "$tmp/slow" "http://127.0.0.1:$port/slow?ms=2000" &
slow=$!
for _ in $(seq 100); do grep -q '/slow' "$ORIGIN_LOG" && break; sleep 0.05; done
kill -TERM "$old_pid"
sleep 0.3
h=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$old_admin/healthz" || true)
# the slow request may have gone to either proxy: only when the old one is still draining is 503 required
if kill -0 "$old_pid" 2>/dev/null; then
  [ "$h" = 503 ] || td_fail "/healthz of the draining proxy: $h, want 503"
fi
rc=0; wait "$old_pid" || rc=$?
[ "$rc" = 0 ] || td_fail "the old proxy exited $rc"
wait "$slow" || true
grep -q 'slow done' "$tmp/slow" || td_fail "the slow request was lost during the hand-over"
for i in $(seq 1 20); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/after-$i" || td_fail "request $i failed after the old proxy left"
done
[ "$(curl -fsS "http://127.0.0.1:$new_admin/metrics" | awk '$1 == "tapedeck_proxy_requests_total{code=\"2xx\"}" {print $2}')" -ge 20 ] ||
  td_fail "the new proxy did not serve the later requests"
echo "ok: second proxy started on the same address, old one drained (healthz 503 while draining), no request lost"
