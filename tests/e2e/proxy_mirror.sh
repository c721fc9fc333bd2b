#!/usr/bin/env bash
# e2e: --mirror. (1) Every client request reaches the primary; the safe ones (and with --mirror-writes all
# of them) reach the shadow with the same method, target and body, over kept-alive connections; bodies
# over the cap are skipped and counted. (2) --mirror-percent 50 mirrors about half. (3) A shadow that
# sleeps 5 s per request, and a shadow port that refuses: every client request still succeeds, the
# batch finishes far faster than it could with the shadow on the path, and the metrics count the
# failures and skips. (4) The capture is the same with and without mirroring, and recording and
# mirroring sample independently.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
px_start_origin # the primary
PRIMARY_PORT=$ORIGIN_PORT PRIMARY_LOG=$ORIGIN_LOG
px_start_origin # the shadow: the same test origin, its own log
SHADOW_PORT=$ORIGIN_PORT SHADOW_LOG=$ORIGIN_LOG
UP="http://127.0.0.1:$PRIMARY_PORT"

mx() { px_metric "tapedeck_proxy_mirror_$1"; }
wait_settled() { # until every copy sent has a response or a failure (the shadow is answered async)
  local i sent done_ f
  for i in $(seq 1 100); do
    sent=$(mx requests_total)
    done_=0
    for f in $(curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics" |
      awk '$1 ~ /^tapedeck_proxy_mirror_(responses|failed)_total/ { print $2 }'); do
      done_=$((done_ + f))
    done
    ((done_ >= sent)) && return 0
    sleep 0.05
  done
  td_fail "mirror: $sent copies sent, only $done_ answered or failed after 5 s"
}
skipped_total() {
  curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk '$1 ~ /^tapedeck_proxy_mirror_skipped_total/ { n += $2 } END { print n + 0 }'
}

# The request set: safe and unsafe methods, queries, bodies by Content-Length and chunked, on kept-alive
# client connections (several URLs per curl run share one connection).
head -c 5000 /dev/urandom >"$tmp/body5k"
send_set() {
  local p="http://127.0.0.1:$PROXY_PORT"
  curl -fsS -o /dev/null "$p/api/items?id=7&q=a%20b" -o /dev/null "$p/api/items/8" -o /dev/null "$p/chunked" ||
    td_fail "GETs through the proxy"
  curl -fsS -o /dev/null -I "$p/head" || td_fail "HEAD"
  curl -fsS -o /dev/null -X OPTIONS "$p/api/opt?x=1" || td_fail "OPTIONS"
  curl -fsS -o /dev/null -X TRACE "$p/api/trace" || td_fail "TRACE"
  curl -fsS -o "$tmp/echo" --data-binary @"$tmp/body5k" "$p/api/echo?post=cl" || td_fail "POST"
  cmp -s "$tmp/body5k" "$tmp/echo" || td_fail "POST body changed on the way"
  curl -fsS -o /dev/null -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/body5k" "$p/api/echo?post=chunked" ||
    td_fail "chunked POST"
  curl -fsS -o /dev/null -X PUT --data-binary 'put body' "$p/api/items/9" || td_fail "PUT"
  curl -fsS -o /dev/null -X DELETE "$p/api/items/9" || td_fail "DELETE"
}
N_SET=10 N_SAFE=6

# ---- the flags: clear errors, exit 2 ----
cli() { # expected-message-part args...: must exit 2 and say so on stderr
  local want=$1 rc=0; shift
  "$BIN/tapedeck-proxy" --upstream "$UP" --listen "127.0.0.1:$(td_free_port)" "$@" 2>"$tmp/cli.err" || rc=$?
  ((rc == 2)) || td_fail "tapedeck-proxy $* exited $rc, want 2"
  grep -q -- "$want" "$tmp/cli.err" || td_fail "tapedeck-proxy $*: message '$(cat "$tmp/cli.err")' lacks '$want'"
}
cli "https:// shadows are not supported" --mirror "https://127.0.0.1:$SHADOW_PORT"
cli "need --mirror URL" --mirror-percent 50
cli "need --mirror URL" --mirror-writes
cli "'101' is not a percentage" --mirror "http://127.0.0.1:$SHADOW_PORT" --mirror-percent 101
cli "cannot resolve no-such-host.invalid" --mirror "http://no-such-host.invalid:8080"
grep -q -- '--mirror-percent PCT' <<<"$("$BIN/tapedeck-proxy" --help)" || td_fail "--help does not list --mirror-percent"

# ---- (1) safe methods only ----
: >"$PRIMARY_LOG"
: >"$SHADOW_LOG"
px_start_proxy --upstream "$UP" --mirror "http://127.0.0.1:$SHADOW_PORT" --capture-dir "$tmp/cap-m" --no-dictionary
send_set
wait_settled
np=$(wc -l <"$PRIMARY_LOG")
((np == N_SET)) || td_fail "the primary got $np requests, want $N_SET"
grep -E '^(GET|HEAD|OPTIONS|TRACE) ' "$PRIMARY_LOG" | sort >"$tmp/want"
sort "$SHADOW_LOG" >"$tmp/got"
diff "$tmp/want" "$tmp/got" >&2 || td_fail "the shadow did not get exactly the safe requests (method, target, body)"
[ "$(mx requests_total)" = "$N_SAFE" ] || td_fail "mirror requests_total $(mx requests_total), want $N_SAFE"
[ "$(mx 'responses_total{code="2xx"}')" = "$N_SAFE" ] || td_fail "mirror 2xx responses $(mx 'responses_total{code="2xx"}')"
[ "$(mx 'skipped_total{reason="method"}')" = 4 ] || td_fail "skipped{method} $(mx 'skipped_total{reason="method"}'), want 4"
[ "$(mx enabled)" = 1 ] || td_fail "tapedeck_proxy_mirror_enabled is not 1"
conns=$(mx connections_total)
px_stop_proxy
echo "safe only: primary $np, shadow $(wc -l <"$SHADOW_LOG") (identical lines), $conns shadow connection(s)"

# ---- (1b) --mirror-writes: everything, bodies included; over-cap bodies are skipped ----
: >"$PRIMARY_LOG"
: >"$SHADOW_LOG"
px_start_proxy --upstream "$UP" --mirror "http://127.0.0.1:$SHADOW_PORT" --mirror-writes
send_set
head -c $((2 * 1024 * 1024)) /dev/zero >"$tmp/body2m"
curl -fsS -o /dev/null --data-binary @"$tmp/body2m" "http://127.0.0.1:$PROXY_PORT/api/echo?big=cl" || td_fail "2 MiB POST"
curl -fsS -o /dev/null -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/body2m" \
  "http://127.0.0.1:$PROXY_PORT/api/echo?big=chunked" || td_fail "2 MiB chunked POST"
curl -fsS -o /dev/null -H 'Expect: 100-continue' --data-binary 'expect body' \
  "http://127.0.0.1:$PROXY_PORT/api/continue" || td_fail "POST with Expect: 100-continue"
out=$(printf 'GET /api/pipe1 HTTP/1.1\r\nHost: t\r\n\r\nGET /api/pipe2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
  px_raw "$PROXY_PORT" 3) || td_fail "pipelined pair"
[ "$(grep -c '^HTTP/1.1 200' <<<"$out")" = 2 ] || td_fail "pipelined pair: $(head -c 300 <<<"$out")"
out=$(printf 'GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhi' | px_raw "$PROXY_PORT" 1 || true)
grep -q '^HI' <<<"$out" || td_fail "the upgraded tunnel did not work with mirroring on"
# a client that leaves inside its request body: the primary gets the cut request, the shadow nothing
printf 'POST /api/cut HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten b' | px_raw "$PROXY_PORT" 0.3 >/dev/null || true
wait_settled
grep -v 'big=\|^GET /ws ' "$PRIMARY_LOG" | sort >"$tmp/want"
sort "$SHADOW_LOG" >"$tmp/got"
diff "$tmp/want" "$tmp/got" >&2 || td_fail "with --mirror-writes the shadow did not get every request alike"
grep -q 'POST /api/echo?post=chunked' "$SHADOW_LOG" || td_fail "no chunked POST at the shadow"
grep -q 'POST /api/continue ' "$SHADOW_LOG" || td_fail "no Expect: 100-continue POST at the shadow"
grep -q 'GET /api/pipe2 ' "$SHADOW_LOG" || td_fail "the second pipelined request did not reach the shadow"
grep -q '/api/cut' "$SHADOW_LOG" && td_fail "a cut request reached the shadow"
for r in upgrade incomplete; do
  [ "$(mx "skipped_total{reason=\"$r\"}")" = 1 ] || td_fail "skipped{$r} $(mx "skipped_total{reason=\"$r\"}"), want 1"
done
grep -c 'big=' "$PRIMARY_LOG" | grep -qx 2 || td_fail "the primary did not get both 2 MiB requests"
[ "$(mx 'skipped_total{reason="too_large"}')" = 2 ] || td_fail "skipped{too_large} $(mx 'skipped_total{reason="too_large"}'), want 2"
[ "$(mx held_bytes)" = 0 ] || td_fail "held bytes $(mx held_bytes) after everything settled"
px_stop_proxy
echo "--mirror-writes: shadow got all $((N_SET + 3)) whole requests; over-cap bodies (2), the upgrade and the cut request skipped"

# ---- (4) the capture is the same without mirroring ----
px_start_proxy --upstream "$UP" --capture-dir "$tmp/cap-p" --no-dictionary
send_set
[ "$(mx enabled)" = 0 ] || td_fail "mirror enabled without --mirror"
px_stop_proxy
for d in cap-m cap-p; do
  "$BIN/tapedeck-capture" ls "$tmp/$d" | awk '{ print $3, $4, $5 }' | sort >"$tmp/$d.ls"
done
n=$(wc -l <"$tmp/cap-m.ls")
((n == N_SET)) || td_fail "the mirrored run's capture lists $n exchanges, want $N_SET"
diff "$tmp/cap-p.ls" "$tmp/cap-m.ls" >&2 || td_fail "mirroring changed the capture"
echo "capture with mirroring = capture without: $n exchanges"

# ---- (2) --mirror-percent 50 over 400 requests, recording at --sample 20 beside it ----
: >"$SHADOW_LOG"
px_start_proxy --upstream "$UP" --mirror "http://127.0.0.1:$SHADOW_PORT" --mirror-percent 50 \
  --capture-dir "$tmp/cap-s" --sample 20 --workers 2
for i in $(seq 1 400); do printf 'url = "http://127.0.0.1:%s/p/%d"\noutput = "/dev/null"\n' "$PROXY_PORT" "$i"; done >"$tmp/urls400"
curl -fsS -K "$tmp/urls400" || td_fail "400 requests through the proxy"
wait_settled
sent=$(mx requests_total) out=$(mx 'skipped_total{reason="sampled_out"}') ns=$(wc -l <"$SHADOW_LOG")
rec=$(px_metric tapedeck_proxy_capture_recorded_total) rout=$(px_metric tapedeck_proxy_capture_sampled_out_total)
conns=$(mx connections_total)
echo "percent 50: mirrored $sent of 400 (shadow saw $ns, $conns connection(s)); recorded $rec at --sample 20"
((sent + out == 400)) || td_fail "mirrored $sent + sampled out $out != 400"
((sent >= 100 && sent <= 300)) || td_fail "--mirror-percent 50 mirrored $sent of 400"
((ns == sent)) || td_fail "the shadow saw $ns requests, the proxy sent $sent"
((rec + rout == 400 && rec >= 30 && rec <= 130)) || td_fail "recording at --sample 20: $rec recorded, $rout out"
# copies are fire-and-forget, so a few run side by side; but at most the per-worker cap (64, two workers),
# and connections are reused: at least a third of the copies went on a connection already open (a shadow
# slowed by a loaded machine makes copies spread over more connections before they pipeline)
((conns <= 128 && conns * 3 < sent * 2)) || td_fail "$conns shadow connections for $sent copies: not kept alive"
px_stop_proxy

# ---- (3) a slow shadow and a dead one never slow the primary ----
cat >"$tmp/sleepy.py" <<'PY'
import socket, sys, threading, time
def handle(s):
    try:
        s.settimeout(30)
        while True:
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = s.recv(65536)
                if not d:
                    return
                buf += d
            time.sleep(5)  # a shadow 5 s slow on every request
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except OSError:
        pass
    finally:
        s.close()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(128)
while True:
    c, _ = ls.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
PY
SLEEPY_PORT=$(td_free_port)
td_spawn python3 "$tmp/sleepy.py" "$SLEEPY_PORT"
td_wait_port "$SLEEPY_PORT"
DEAD_PORT=$(td_free_port) # nothing listens there: connections are refused
NS=600 # more than a worker holds in flight (PROXY_MIRROR_MAX_INFLIGHT 512): the cap must bite
for i in $(seq 1 $NS); do printf 'url = "http://127.0.0.1:PORT/s?n=%d"\noutput = "/dev/null"\n' "$i"; done >"$tmp/urlsN"
bound=$(px_slow 10 20)
for shadow in sleepy dead; do
  port=$SLEEPY_PORT
  [ "$shadow" = dead ] && port=$DEAD_PORT
  : >"$PRIMARY_LOG"
  px_start_proxy --upstream "$UP" --mirror "http://127.0.0.1:$port"
  sed "s/PORT/$PROXY_PORT/" "$tmp/urlsN" >"$tmp/urls"
  t0=$(date +%s%N)
  codes=$(curl -sS -K "$tmp/urls" -w '%{http_code}\n' | sort | uniq -c | awk '{ print $2 ":" $1 }' | tr '\n' ' ')
  ms=$((($(date +%s%N) - t0) / 1000000))
  echo "$shadow shadow: $NS sequential requests in $ms ms, status counts: $codes"
  [ "$codes" = "200:$NS " ] || td_fail "$shadow shadow: client statuses $codes, want 200 x $NS"
  ((ms < bound * 1000)) || td_fail "$shadow shadow: $NS requests took $ms ms (bound ${bound} s)"
  np=$(wc -l <"$PRIMARY_LOG")
  ((np == NS)) || td_fail "$shadow shadow: the primary got $np of $NS"
  sent=$(mx requests_total) skipped=$(skipped_total)
  ((sent + skipped == NS)) || td_fail "$shadow shadow: sent $sent + skipped $skipped != $NS"
  if [ "$shadow" = sleepy ]; then
    full=$(mx 'skipped_total{reason="queue_full"}')
    ((full > 0)) || td_fail "sleepy shadow: nothing skipped as queue_full (the in-flight cap did not bite)"
    sleep 3.5 # past the shadow response timeout (3 s)
    to=$(mx 'failed_total{kind="timeout"}')
    ((to > 0)) || td_fail "sleepy shadow: no timeout counted"
    echo "  sent $sent, skipped queue_full $full, failed timeout $to (after 3.5 s)"
  else
    cf=$(mx 'failed_total{kind="connect"}') down=$(mx 'skipped_total{reason="shadow_down"}')
    ((cf > 0 && down > 0)) || td_fail "dead shadow: failed{connect} $cf, skipped{shadow_down} $down"
    nw=$(grep -c 'mirror: shadow .*connect' "$PROXY_LOG" || true)
    ((nw == 1)) || { cat "$PROXY_LOG" >&2; td_fail "dead shadow: $nw warnings logged, want exactly 1 (rate-limited)"; }
    echo "  sent $sent, failed connect $cf, skipped shadow_down $down, one warning logged"
  fi
  px_stop_proxy
done
echo "ok"
