#!/usr/bin/env bash
# e2e: HTTP/2 flow control is the backpressure. Clients that ask for a 64 MB response and never open
# their flow-control window get at most the initial 64 KiB window; the proxy stops reading the upstream,
# so its memory does not grow with the response (RSS measured while they hold on), and a SIGTERM drain
# lets an in-flight h2 request finish before the proxy exits 0.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
mkdir -p "$tmp/www" && head -c 64M /dev/zero >"$tmp/www/big.bin" && chmod -R a+rX "$tmp"
port=$(td_free_port)
td_nginx "$port" "$tmp/www"
px_start_proxy --upstream "http://127.0.0.1:$port" --h2c
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PROXY_PID/status"; }
before=$(rss)
pids=()
for i in 1 2 3 4; do
  python3 "$PX_DIR/h2_raw.py" "$PROXY_PORT" slow-reader /big.bin 2 "$tmp/held.$i" >"$tmp/slow.$i" &
  pids+=($!)
done
for _ in $(seq 100); do [ "$(ls "$tmp"/held.* 2>/dev/null | wc -l)" = 4 ] && break; sleep 0.1; done
during=$(rss)
for p in "${pids[@]}"; do wait "$p" || true; done
cat "$tmp"/slow.*
grep -c 'result: expected' "$tmp"/slow.* | grep -q ':0' && td_fail "a slow reader got more than its window"
echo "proxy RSS: $before KiB before, $during KiB with 4 clients holding 64 MB responses"
((during - before < 40960)) || td_fail "RSS grew by $((during - before)) KiB: the responses were buffered"
curl -fsS --http2-prior-knowledge -o /dev/null "http://127.0.0.1:$PROXY_PORT/big.bin" || td_fail "a reading client did not get the 64 MB"

# drain: a request in flight on an h2 connection finishes; the proxy then exits 0
curl -sS --http2-prior-knowledge --limit-rate 8M -o "$tmp/got" -w '%{http_code}' "http://127.0.0.1:$PROXY_PORT/big.bin" >"$tmp/code" &
cpid=$!
for _ in $(seq 100); do [ -s "$tmp/got" ] && break; sleep 0.05; done
px_stop_proxy
wait "$cpid" || true
[ "$(cat "$tmp/code")" = 200 ] && [ "$(stat -c%s "$tmp/got")" = $((64 * 1024 * 1024)) ] \
  || td_fail "the h2 request in flight at SIGTERM did not finish (code $(cat "$tmp/code"), $(stat -c%s "$tmp/got") bytes)"
echo "ok: h2 flow control and drain"
