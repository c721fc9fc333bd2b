#!/usr/bin/env bash
# e2e: every timeout and upstream failure is answered and recorded: a head that does not arrive in time
# (also when trickled byte by byte) gets 408; an upstream that does not answer gets 504; an upstream whose
# connect hangs gets 504; an upstream that is down gets 502 at once; idle keep-alive clients are closed.
# Each failed exchange is in the capture with the reason, and counted in /metrics.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
px_start_origin
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --capture-dir "$tmp/cap" --no-dictionary \
  --header-timeout 1s --upstream-timeout 1s --idle-timeout 2s
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; } # a < b, as decimals

# 408: the head never ends
out=$(printf 'GET /never HTTP/1.1\r\nHost: t\r\n' | px_raw "$PROXY_PORT" 4) || td_fail "connection still open after the header timeout"
head -n1 <<<"$out" | grep -q '^HTTP/1.1 408' || td_fail "no 408 for an unfinished head: $out"
# 408 also when the head trickles in (the deadline is for the whole head, not per read)
out=$(python3 - "$PROXY_PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.time()
s.sendall(b"GET /trickle HTTP/1.1\r\nHost: t\r\n")
got = b""
s.settimeout(0.3)
for i in range(20):
    try:
        s.sendall(b"X-Slow-%d: y\r\n" % i)
    except OSError:
        break
    try:
        d = s.recv(4096)
        if not d:
            break
        got += d
    except socket.timeout:
        pass
print("%s|%.2f" % (got.split(b"\r\n")[0].decode(), time.time() - t0))
EOF
)
[ "${out%|*}" = "HTTP/1.1 408 Request Timeout" ] || td_fail "trickled head: '$out', want 408"
e=${out#*|}
lt "$e" "$(px_slow 4 8)" || td_fail "trickled head answered after ${e}s (header timeout 1s)"
echo "408: unfinished and trickled heads (trickle answered after ${e}s)"

# 504: the upstream accepts but never answers
r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "http://127.0.0.1:$PROXY_PORT/hang")
[ "${r% *}" = 504 ] || td_fail "upstream silence: $r, want 504"
echo "504 after ${r#* }s of upstream silence"

# idle keep-alive connection is closed by the proxy after --idle-timeout
out=$(printf 'GET /idle HTTP/1.1\r\nHost: t\r\n\r\n' | px_raw "$PROXY_PORT" 4) || td_fail "idle keep-alive connection not closed"
grep -q 'GET /idle' <<<"$out" || td_fail "no answer before the idle close"
echo "idle keep-alive connection closed"

# 502 at once: nothing listens upstream
dead=$(td_free_port)
cap1=$ADMIN_PORT
px_start_proxy --upstream "http://127.0.0.1:$dead" --capture-dir "$tmp/cap-dead" --no-dictionary
r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "http://127.0.0.1:$PROXY_PORT/down")
e=${r#* }
[ "${r% *}" = 502 ] || td_fail "upstream down: $r, want 502"
lt "$e" "$(px_slow 1 2)" || td_fail "502 took ${e}s, want < 1s"
[ "$(px_metric 'tapedeck_proxy_upstream_errors_total{kind="connect"}')" = 1 ] || td_fail "connect error not counted"
echo "502 in ${e}s with the upstream down"
dead_pid=$PROXY_PID

# 504: the upstream's accept queue is full, so the connect hangs
hole_port_file=$tmp/hole.port
td_spawn python3 -c '
import socket, sys, time
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(0)
cs = []
for i in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(ls.getsockname())
    except BlockingIOError: pass
    cs.append(c)
time.sleep(0.3)
open(sys.argv[1], "w").write(str(ls.getsockname()[1]))
time.sleep(60)' "$hole_port_file"
for _ in $(seq 50); do [ -s "$hole_port_file" ] && break; sleep 0.1; done
px_start_proxy --upstream "http://127.0.0.1:$(cat "$hole_port_file")" --connect-timeout 1s
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PROXY_PORT/hole")
[ "$code" = 504 ] || td_fail "hanging connect: $code, want 504"
[ "$(px_metric 'tapedeck_proxy_upstream_errors_total{kind="connect_timeout"}')" = 1 ] || td_fail "connect timeout not counted"
echo "504 for a connect that hangs"

# metrics of the first proxy, then the captures
ADMIN_PORT=$cap1
[ "$(px_metric 'tapedeck_proxy_rejected_total{code="408"}')" = 2 ] || td_fail "408s not counted"
[ "$(px_metric 'tapedeck_proxy_upstream_errors_total{kind="timeout"}')" = 1 ] || td_fail "upstream timeout not counted"
kill -TERM "${TD_PIDS[@]:2}" 2>/dev/null || true
wait "$dead_pid" || true
sleep 0.5
px_dump "$tmp/cap" >"$tmp/a.warc"
px_dump "$tmp/cap-dead" >"$tmp/b.warc"
grep -aq '^WARC-Tapedeck-Error: upstream .*timed out' "$tmp/a.warc" || td_fail "the 504 is not recorded with its reason"
grep -aq '^WARC-Tapedeck-Error: connect .*refused' "$tmp/b.warc" || td_fail "the 502 is not recorded with its reason"
grep -aq '^WARC-Target-URI: .*/idle' "$tmp/a.warc" || td_fail "the normal exchange is missing"
echo "ok: 408, 504 (silence and hanging connect), 502 at once, idle close; failures recorded with reasons"
