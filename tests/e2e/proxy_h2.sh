#!/usr/bin/env bash
# e2e: HTTP/2 through the proxy. curl --http2 over TLS and --http2-prior-knowledge on cleartext (--h2c)
# get the origin's bodies (plain, chunked, a POST with and without Content-Length, HEAD/204/304);
# --h2c still serves HTTP/1.1; 100 requests in 100 TLS records of one TCP write are all answered; h2load 2 000 requests on 10 connections x 10 streams are all answered and
# all recorded; the records say WARC-Protocol h2 (and tls/1.x) and hold an HTTP/1.1 request; check
# replays the h2 capture against the origin (native engine) and over h2 (--http2, libcurl) with no diff.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"
source "$(dirname "$0")/proxy_tls_lib.bash"
command -v h2load >/dev/null || td_fail "h2load is not installed (scripts/install-deps: nghttp2-client)"

tmp=$(td_tmpdir)
px_mkcert "$tmp" site
px_start_origin
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --tls-cert "$tmp/site.crt" --tls-key "$tmp/site.key" \
  --capture-dir "$tmp/cap-tls" --no-dictionary
tls_port=$PROXY_PORT tls_pid=$PROXY_PID tls_admin=$ADMIN_PORT tls_log=$PROXY_LOG
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --h2c --capture-dir "$tmp/cap-h2c" --no-dictionary
h2c_port=$PROXY_PORT

head -c 200000 /dev/urandom >"$tmp/body"
check_bodies() { # curl args for h2... base URL
  local base=${*: -1} args=("${@:1:$#-1}") path direct via v
  for path in /hello /chunked; do
    direct=$(curl -fsS "http://127.0.0.1:$ORIGIN_PORT$path" | px_sha)
    via=$(curl -fsS "${args[@]}" "$base$path" | px_sha)
    [ "$direct" = "$via" ] || td_fail "$base$path over h2 differs from the direct body"
  done
  v=$(curl -fsS "${args[@]}" -o /dev/null -w '%{http_version}' "$base/hello")
  [ "$v" = 2 ] || td_fail "$base: curl spoke HTTP/$v, not 2"
  curl -fsS "${args[@]}" --data-binary @"$tmp/body" "$base/echo" -o "$tmp/echoed"
  cmp -s "$tmp/body" "$tmp/echoed" || td_fail "$base: a 200 KB POST with Content-Length came back changed"
  curl -fsS "${args[@]}" -T - "$base/echo" <"$tmp/body" -o "$tmp/echoed2" # no Content-Length: chunked upstream
  cmp -s "$tmp/body" "$tmp/echoed2" || td_fail "$base: a POST without Content-Length came back changed"
  [ "$(curl -sS "${args[@]}" -I -o /dev/null -w '%{http_code}' "$base/head")" = 200 ] || td_fail "$base: HEAD failed"
  [ "$(curl -sS "${args[@]}" -o /dev/null -w '%{http_code}' "$base/204")" = 204 ] || td_fail "$base: 204 failed"
  [ "$(curl -sS "${args[@]}" -o /dev/null -w '%{http_code}' "$base/304")" = 304 ] || td_fail "$base: 304 failed"
  [ "$(curl -sS "${args[@]}" -o /dev/null -w '%{http_code}' "$base/hints")" = 200 ] || td_fail "$base: 103 then 200 failed"
}
check_bodies --http2 --cacert "$tmp/site.crt" "https://localhost:$tls_port"
check_bodies --http2-prior-knowledge "http://127.0.0.1:$h2c_port"
[ "$(curl -fsS --http1.1 "http://127.0.0.1:$h2c_port/hello")" = "GET /hello" ] || td_fail "--h2c stopped serving HTTP/1.1"
[ "$(curl -fsS --http1.1 --cacert "$tmp/site.crt" "https://localhost:$tls_port/hello")" = "GET /hello" ] \
  || td_fail "HTTP/1.1 over TLS failed beside h2"

# fields the upstream's Connection names are not forwarded (a few, and more than are split at once)
for q in 2 12; do
  hdrs=$(curl -fsS --http2 --cacert "$tmp/site.crt" -D - -o /dev/null "https://localhost:$tls_port/hop?$q")
  grep -qi '^x-kept: yes' <<<"$hdrs" || td_fail "/hop?$q: X-Kept was not forwarded"
  ! grep -qi -E '^(x-hop[0-9]+|keep-alive|connection):' <<<"$hdrs" || td_fail "/hop?$q: a hop-by-hop field went to the h2 client: $hdrs"
done

# h2load: 2 000 requests, 10 connections x 10 concurrent streams, over TLS
h2load -n 2000 -c 10 -m 10 "https://127.0.0.1:$tls_port/load" >"$tmp/h2load.txt" 2>&1 || true
grep -E 'requests:|status codes:' "$tmp/h2load.txt"
grep -q '2000 succeeded, 0 failed, 0 errored' "$tmp/h2load.txt" || td_fail "h2load: not every request succeeded"
grep -q 'status codes: 2000 2xx' "$tmp/h2load.txt" || td_fail "h2load: not 2000 2xx answers"
# 100 requests in 100 TLS records sent in one TCP write (read-ahead takes them in one read): all answered
out=$(python3 "$PX_DIR/h2_tls_burst.py" "$tls_port" 100) || td_fail "records sent together: $out"
ADMIN_PORT=$tls_admin
[ "$(px_metric tapedeck_proxy_h2_streams_total)" -ge 2100 ] || td_fail "h2 streams on /metrics: $(px_metric tapedeck_proxy_h2_streams_total)"

px_stop_proxy # the --h2c one
PROXY_PID=$tls_pid PROXY_LOG=$tls_log px_stop_proxy
n=$("$BIN/tapedeck-capture" ls "$tmp/cap-tls" | awk '$4 == "/load"' | wc -l)
[ "$n" = 2000 ] || td_fail "the capture holds $n of h2load's 2000 requests"
px_dump "$tmp/cap-tls" >"$tmp/dump"
grep -aq '^WARC-Protocol: h2' "$tmp/dump" || td_fail "no WARC-Protocol: h2 in the capture"
grep -aq '^WARC-Protocol: tls/1\.[23]' "$tmp/dump" || td_fail "no WARC-Protocol: tls/1.x in the capture"
grep -aq "^GET /load HTTP/1.1" "$tmp/dump" || td_fail "the h2 request is not stored in HTTP/1.1 form"
grep -aq "^Host: 127.0.0.1:$tls_port" "$tmp/dump" || td_fail "the stored request has no Host from :authority"
px_dump "$tmp/cap-h2c" | grep -aq '^transfer-encoding: chunked' || td_fail "the body without length was not stored chunked"

# check replays the h2c capture: against the origin (native HTTP/1.1), and over h2 through a fresh
# --h2c proxy (libcurl, prior knowledge); both without a diff
"$BIN/tapedeck-replay" check "$tmp/cap-h2c" --target "http://127.0.0.1:$ORIGIN_PORT" >"$tmp/check1.txt" 2>&1 \
  || { cat "$tmp/check1.txt"; td_fail "check of the h2 capture against the origin failed"; }
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --h2c
"$BIN/tapedeck-replay" check "$tmp/cap-h2c" --http2 --target "http://127.0.0.1:$PROXY_PORT" \
  --report-json "$tmp/check2.json" >"$tmp/check2.txt" 2>&1 \
  || { cat "$tmp/check2.txt"; td_fail "check --http2 of the h2 capture failed"; }
[ "$(ADMIN_PORT=$ADMIN_PORT px_metric tapedeck_proxy_h2_streams_total)" -ge 10 ] || td_fail "check --http2 did not speak h2"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; sys.exit(0 if t["requests"] >= 10 and t["diffs"] == 0 else 1)' \
  "$tmp/check2.json" || td_fail "check --http2: $(cat "$tmp/check2.txt")"
px_stop_proxy
echo "ok: HTTP/2"
