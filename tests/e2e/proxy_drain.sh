#!/usr/bin/env bash
# e2e: SIGTERM drains. With slow requests in flight (each takes 4 s at the origin) and keep-alive load
# running, SIGTERM makes the proxy stop accepting at once, finish every in-flight request, close the
# capture segment (renamed from .part) and exit 0. No in-flight request is lost, and each is recorded.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
px_start_origin
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --capture-dir "$tmp/cap" --no-dictionary \
  --drain-timeout 10s --workers 2 --verbose

# 8 slow requests in flight, each on its own connection
python3 -c 'import time; time.sleep(0.01)' # warm the interpreter cache: python starts slowly on a busy machine
for i in $(seq 1 8); do
  (curl -s --max-time 20 -o "$tmp/slow.$i" -w '%{http_code}' "http://127.0.0.1:$PROXY_PORT/slow?ms=4000&n=$i" \
     >"$tmp/code.$i" 2>/dev/null || true) &
done
# keep-alive load: one client sending requests back to back on one connection until it is closed
python3 - "$PROXY_PORT" "$tmp/ka.ready" >"$tmp/ka.txt" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
ok = lost = 0
end = time.time() + 15
buf = b""
cut = reset = 0
while time.time() < end and ok < 100000:
    try:
        s.sendall(b"GET /ka HTTP/1.1\r\nHost: t\r\n\r\n")
        while b"\r\n\r\n" not in buf or len(buf.split(b"\r\n\r\n", 1)[1]) < 8:
            d = s.recv(65536)
            if not d:
                raise EOFError
            buf += d
    except (EOFError, OSError) as e:
        # closed by the proxy: allowed between responses (the request just sent was never read; a client
        # retries it), never inside a response
        cut = 1 if buf else 0
        reset = isinstance(e, ConnectionResetError)
        break
    head, rest = buf.split(b"\r\n\r\n", 1)
    buf = rest[8:]
    ok += 1
    if ok == 20:
        open(sys.argv[2], "w").write("running")
lost = cut
print("ok=%d cut_inside_response=%d reset=%d" % (ok, lost, reset))
PY
ka_pid=$!
# wait until the slow requests have reached the origin and the keep-alive client runs, then SIGTERM
for _ in $(seq 300); do
  [ "$(grep -c '/slow' "$ORIGIN_LOG")" -ge 8 ] && [ -s "$tmp/ka.ready" ] && break
  sleep 0.05
done
[ "$(grep -c '/slow' "$ORIGIN_LOG")" -ge 8 ] || td_fail "slow requests did not reach the origin"
[ -s "$tmp/ka.ready" ] || td_fail "the keep-alive client did not connect"
kill -TERM "$PROXY_PID"
sleep 0.3
# new connections are refused while draining
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$PROXY_PORT/new" || true)
[ "$code" = 000 ] || td_fail "a new connection was served during the drain (status $code)"
rc=0; wait "$PROXY_PID" || rc=$?
[ "$rc" = 0 ] || { cat "$PROXY_LOG" >&2; td_fail "proxy exit status $rc after SIGTERM, want 0"; }
wait "$ka_pid" || true
for i in $(seq 1 8); do
  wait_for=$(cat "$tmp/code.$i" 2>/dev/null || true)
  for _ in $(seq 100); do [ -n "$wait_for" ] && break; sleep 0.05; wait_for=$(cat "$tmp/code.$i" 2>/dev/null || true); done
  [ "$wait_for" = 200 ] && grep -q 'slow done' "$tmp/slow.$i" || { grep -v accepted "$PROXY_LOG" >&2; td_fail "in-flight request $i lost (status '$wait_for')"; }
done
echo "8 in-flight slow requests answered; keep-alive client: $(cat "$tmp/ka.txt")"
grep -q 'cut_inside_response=0' "$tmp/ka.txt" || td_fail "a keep-alive response was cut by the drain"
grep -q 'reset=0' "$tmp/ka.txt" || td_fail "the keep-alive connection was reset, not closed (no lingering close)"
ka=$(sed -n 's/^ok=\([0-9]*\).*/\1/p' "$tmp/ka.txt")
((ka > 10)) || td_fail "the keep-alive client got only $ka responses: no load during the drain"
ls "$tmp"/cap/*.part 2>/dev/null && td_fail "segment left as .part"
n=$(( $(px_dump "$tmp/cap" | grep -ac "^WARC-Target-URI: .*/slow") / 2 )) # request + response record
((n == 8)) || td_fail "$n slow exchanges recorded, want 8"
echo "ok: drain finished every in-flight request, exit 0, segment closed with all 8 slow exchanges"
