#!/usr/bin/env bash
# e2e: every HTTP feature goes through tapedeck-proxy unchanged and is recorded. nginx (static files) and
# the python test origin (odd framings) sit behind one proxy each; curl and raw sockets in front. For each
# case the status and the sha256 of the body through the proxy equal those fetched from the origin
# directly; afterwards the capture (closed by SIGTERM, so renamed) holds every exchange.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
mkdir -p "$tmp/www" "$tmp/cap-n" "$tmp/cap-o"
chmod 755 "$tmp" "$tmp/www" # nginx workers run as nobody
printf '{"id":42,"name":"small"}\n' >"$tmp/www/small.json"
head -c 65536 /dev/urandom >"$tmp/www/64k.bin"
head -c 3000000 /dev/urandom >"$tmp/www/3m.bin"
nport=$(td_free_port)
td_nginx "$nport" "$tmp/www"
px_start_origin

px_start_proxy --upstream "http://127.0.0.1:$nport" --capture-dir "$tmp/cap-n" --no-dictionary --max-body 1M
np=$PROXY_PORT npid=$PROXY_PID nadmin=$ADMIN_PORT nlog=$PROXY_LOG
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --capture-dir "$tmp/cap-o" --no-dictionary
op=$PROXY_PORT

fails=0
same() { # name, direct-port, proxy-port, curl args...: status + body sha must match
  local name=$1 dport=$2 pport=$3 a b; shift 3
  local args=("$@") url="${args[-1]}"; unset 'args[-1]'
  rm -f "$tmp/direct" "$tmp/proxied"; : >"$tmp/direct"; : >"$tmp/proxied" # curl writes no file for no body
  a=$(curl -s --max-time 10 "${args[@]}" -o "$tmp/direct" -w '%{http_code}' "http://127.0.0.1:$dport$url" || true)
  b=$(curl -s --max-time 10 "${args[@]}" -o "$tmp/proxied" -w '%{http_code}' "http://127.0.0.1:$pport$url" || true)
  if [[ " ${args[*]} " == *" -I "* ]]; then # heads: the Date field may tick between the two fetches
    sed -i '/^Date: /Id' "$tmp/direct" "$tmp/proxied"
  fi
  local sa sb; sa=$(px_sha <"$tmp/direct"); sb=$(px_sha <"$tmp/proxied")
  if [ "$a" != "$b" ] || [ "$sa" != "$sb" ] || [ "$a" = 000 ]; then
    echo "DIFF $name: direct $a ${sa:0:12} proxied $b ${sb:0:12}"; fails=$((fails + 1))
  else
    echo "same $name: $a ${sa:0:12} ($(wc -c <"$tmp/proxied") bytes)"
  fi
}

# nginx: static files, HEAD, conditional, range, 404
etag=$(curl -sI "http://127.0.0.1:$nport/small.json" | tr -d '\r' | sed -n 's/^ETag: //Ip')
same small-json "$nport" "$np" /small.json
same 64k "$nport" "$np" /64k.bin
same 3m-streamed "$nport" "$np" /3m.bin
same head "$nport" "$np" -I /small.json
same 304-if-none-match "$nport" "$np" -H "If-None-Match: $etag" /small.json
same 206-range "$nport" "$np" -H 'Range: bytes=100-1099' /64k.bin
same 404 "$nport" "$np" /missing
same http10 "$nport" "$np" -0 /small.json
# the test origin: odd framings
head -c 200000 /dev/urandom >"$tmp/upload"
same chunked-response "$ORIGIN_PORT" "$op" /chunked
same close-delimited "$ORIGIN_PORT" "$op" /close
same 103-early-hints "$ORIGIN_PORT" "$op" /hints
same 204 "$ORIGIN_PORT" "$op" /204
same 304 "$ORIGIN_PORT" "$op" /304
same head-origin "$ORIGIN_PORT" "$op" -I /head
same post-content-length "$ORIGIN_PORT" "$op" --data-binary @"$tmp/upload" /echo
same post-chunked "$ORIGIN_PORT" "$op" -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/upload" /echo?te
same expect-100-continue "$ORIGIN_PORT" "$op" -H 'Expect: 100-continue' --data-binary @"$tmp/upload" /continue
((fails == 0)) || td_fail "$fails case(s) differ between direct and proxied"

# pipelining: three requests in one write, answered in order on one connection
out=$(printf 'GET /p1 HTTP/1.1\r\nHost: t\r\n\r\nGET /p2 HTTP/1.1\r\nHost: t\r\n\r\nGET /p3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
      px_raw "$op" 3) || td_fail "pipelined connection not closed after Connection: close"
order=$(grep -ao 'GET /p[0-9]' <<<"$out" | tr '\n' ' ')
[ "$order" = "GET /p1 GET /p2 GET /p3 " ] || td_fail "pipelined responses out of order: '$order'"
echo "pipelining: $order"

# half-close after the request: the response still arrives
out=$(printf 'GET /half HTTP/1.1\r\nHost: t\r\n\r\n' | px_raw "$op" 3 --half-close) || true
grep -q 'GET /half' <<<"$out" || td_fail "no response after the client half-closed"

# Upgrade: 101 then a raw tunnel (the origin echoes upper-cased)
out=$(printf 'GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello tunnel' | px_raw "$op" 1 || true)
grep -q '^HTTP/1.1 101' <<<"$out" || td_fail "no 101 through the proxy: $out"
grep -q 'HELLO TUNNEL' <<<"$out" || td_fail "tunnel did not carry bytes: $out"
echo "upgrade: 101 and tunnelled bytes"

# keep-alive to the upstream: nginx saw far fewer connections than requests
for i in $(seq 1 20); do printf 'url = "http://127.0.0.1:%s/small.json"\noutput = "/dev/null"\n' "$np"; done >"$tmp/curl20"
curl -s -K "$tmp/curl20"
ADMIN_PORT=$nadmin
reused=$(px_metric 'tapedeck_proxy_upstream_requests_total{connection="reused"}')
((reused >= 19)) || td_fail "upstream connections were not reused ($reused reused)"
echo "upstream keep-alive: $reused requests on reused connections"

# The captures: close both proxies (segments renamed), then look at the records.
kill -TERM "$npid" "$PROXY_PID"
wait "$npid" || td_fail "nginx-side proxy exit status $?"
wait "$PROXY_PID" || td_fail "origin-side proxy exit status $?"
ls "$tmp"/cap-n/*.part "$tmp"/cap-o/*.part 2>/dev/null && td_fail "segments left as .part after shutdown"
px_dump "$tmp/cap-n" >"$tmp/n.warc"
px_dump "$tmp/cap-o" >"$tmp/o.warc"
for u in /small.json /64k.bin /3m.bin /missing; do
  grep -aq "^WARC-Target-URI: http://127.0.0.1:$np$u" "$tmp/n.warc" || td_fail "$u not in the nginx capture"
done
for u in /chunked /close /hints /204 /304 /head /echo /continue /p1 /p2 /p3 /ws; do
  grep -aq "^WARC-Target-URI: http://t$u\|^WARC-Target-URI: http://127.0.0.1:$op$u" "$tmp/o.warc" ||
    td_fail "$u not in the origin capture"
done
grep -aq '^WARC-Truncated: length' "$tmp/n.warc" || td_fail "the 3 MB body was not marked truncated at --max-body"
grep -aq '^WARC-Tapedeck-Interim: 103' "$tmp/o.warc" || td_fail "the 103 was not listed as interim"
grep -aq '^WARC-Tapedeck-Interim: 100' "$tmp/o.warc" || td_fail "the 100 Continue was not listed as interim"
grep -aq '^HTTP/1.1 10[03] ' "$tmp/o.warc" && td_fail "an interim response is inside a response record"
grep -aq '^HTTP/1.1 101 Switching' "$tmp/o.warc" || td_fail "the upgrade handshake was not recorded"
# the recorded request is the request as sent: the chunked upload stays chunked
grep -aq '^Transfer-Encoding: chunked' "$tmp/o.warc" || td_fail "the chunked upload was not recorded as sent"
n_req=$(grep -ac '^WARC-Type: request' "$tmp/n.warc")
n_resp=$(grep -ac '^WARC-Type: response' "$tmp/n.warc")
((n_req >= 28 && n_req == n_resp)) || td_fail "nginx capture: $n_req requests, $n_resp responses"
if "$BIN/tapedeck-capture" ls --help >/dev/null 2>&1; then
  n_ls=$("$BIN/tapedeck-capture" ls "$tmp/cap-n" | wc -l)
  ((n_ls == n_req)) || td_fail "tapedeck-capture ls lists $n_ls exchanges, the WARC has $n_req"
  echo "tapedeck-capture ls: $n_ls exchanges"
fi
echo "ok: all cases identical through the proxy; $n_req + $(grep -ac '^WARC-Type: request' "$tmp/o.warc") exchanges recorded"
