#!/usr/bin/env bash
# e2e: request smuggling vectors are refused. Each vector is an ambiguous request followed by a hidden
# "GET /smuggled-N" on the same connection, sent raw to tapedeck-proxy in front of nginx. Each must get
# the documented error status (400, 501 or 431) and a closed connection, and nginx's own access log must
# show that no smuggled request (and no ambiguous one) ever reached it. A response with ambiguous framing
# from the upstream becomes a 502 and its smuggled tail never reaches the client.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
mkdir -p "$tmp/www" "$tmp/cap"
chmod 755 "$tmp" "$tmp/www"
echo ok >"$tmp/www/index.html"
nport=$(td_free_port)
td_nginx "$nport" "$tmp/www"
access=$(dirname "$TD_NGINX_CONF")/logs/access.log
px_start_origin
px_start_proxy --upstream "http://127.0.0.1:$nport" --capture-dir "$tmp/cap" --no-dictionary

S='GET /smuggled-%d HTTP/1.1\r\nHost: t\r\n\r\n'
big=$(head -c 70000 /dev/zero | tr '\0' a)
vectors=(
  "400|CL+TE|POST /v HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$S"
  "400|TE+CL|POST /v HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n$S"
  "400|duplicate CL|POST /v HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello$S"
  "400|conflicting CL|POST /v HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhello$S"
  "400|CL list|POST /v HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 40\r\n\r\nhello$S"
  "400|CL plus sign|POST /v HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello$S"
  "501|TE gzip,chunked|POST /v HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n$S"
  "400|TE chunked,identity|POST /v HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n$S"
  "400|TE identity|POST /v HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\n$S"
  "400|TE twice|POST /v HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$S"
  "400|TE xchunked|POST /v HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n$S"
  "400|TE in HTTP/1.0|POST /v HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$S"
  "400|space before colon|POST /v HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n$S"
  "400|bad chunk size|POST /v HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n$S"
  "400|chunk size overflow|POST /v HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n$S"
  "400|chunk size LF only|POST /v HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n$S"
  "400|NUL in head|GET /v HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n$S"
  "400|bare CR in head|GET /v HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n$S"
  "400|obs-fold|GET /v HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n$S"
  "431|oversized head|GET /v HTTP/1.1\r\nHost: t\r\nX-Big: $big\r\n\r\n$S"
)
fails=0 i=0
for v in "${vectors[@]}"; do
  i=$((i + 1))
  want=${v%%|*} rest=${v#*|}; name=${rest%%|*} payload=${rest#*|}
  # shellcheck disable=SC2059
  rc=0; out=$(printf "$payload" "$i" | px_raw "$PROXY_PORT" 3 | head -c 200 | tr -d '\0') || rc=$?
  got=$(head -n1 <<<"$out" | awk '{print $2}')
  sleep 0.1 # nginx logs a request when it ends
  if grep -q smuggled "$access"; then
    echo "SMUGGLED $name: nginx saw: $(grep smuggled "$access")"; fails=$((fails + 1)); : >"$access"
  elif grep -q ' /v ' "$access"; then
    echo "LEAK $name: nginx saw: $(grep ' /v \|smuggled' "$access")"; fails=$((fails + 1)); : >"$access"
  elif [ "$got" != "$want" ] || [ "$rc" != 0 ]; then
    echo "BAD  $name: status '${got:-none}' (want $want), connection $([ "$rc" = 0 ] && echo closed || echo open)"
    fails=$((fails + 1))
  else
    echo "ok   $name: $got, closed"
  fi
done
# nothing smuggled, and nothing of the refused requests, reached nginx
if grep -q smuggled "$access"; then
  grep smuggled "$access" >&2; td_fail "a smuggled request reached nginx"
fi
if grep -q ' /v ' "$access"; then
  grep ' /v ' "$access" >&2; td_fail "an ambiguous request reached nginx"
fi
((fails == 0)) || td_fail "$fails vector(s) not refused as they should be"
rejected=$(px_metric 'tapedeck_proxy_rejected_total{code="400"}')
((rejected >= 17)) || td_fail "metrics count $rejected rejected requests, want >= 17"

# the proxy still serves normal traffic
r=$(curl -s -i "http://127.0.0.1:$PROXY_PORT/index.html" || true)
grep -q "^ok" <<<"$r" || { cat "$PROXY_LOG" >&2; td_fail "normal request failed afterwards: $r"; }
grep -q 'GET /index.html' "$access" || td_fail "nginx did not log the normal request"

# upstream side: a response with Content-Length and Transfer-Encoding is refused with a 502
px_stop_proxy
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT"
out=$(printf 'GET /bad-cl-te HTTP/1.1\r\nHost: t\r\n\r\n' | px_raw "$PROXY_PORT" 3 || true)
head -n1 <<<"$out" | grep -q '^HTTP/1.1 502' || td_fail "ambiguous response not turned into 502: $out"
grep -q 'smuggled' <<<"$out" && td_fail "the smuggled response tail reached the client"
curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | grep upstream_errors >&2
bad=$(px_metric 'tapedeck_proxy_upstream_errors_total{kind="bad_response"}')
[ "$bad" = 1 ] || td_fail "bad_response upstream errors: $bad, want 1"
echo "ok: ${#vectors[@]} request vectors refused, nginx saw none of them; ambiguous response -> 502"
