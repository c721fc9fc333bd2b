#!/usr/bin/env bash
# e2e: an https:// --upstream. The pool speaks TLS with SNI and checks the certificate against
# --upstream-ca (or the system CAs) and the host name: bodies equal the direct ones over HTTP/1.1 and
# from an h2 client, connections are reused; a certificate from an unknown CA or for another name is a
# 502, recorded with a WARC-Tapedeck-Error that says why (the h2 502 body says it too).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"
source "$(dirname "$0")/proxy_tls_lib.bash"

tmp=$(td_tmpdir)
px_mkca "$tmp"
px_mkleaf "$tmp" origin "DNS:localhost,IP:127.0.0.1"
px_mkleaf "$tmp" other "DNS:other.test"
mkdir -p "$tmp/www" && head -c 300000 /dev/urandom >"$tmp/www/big.bin" && echo hi >"$tmp/www/hi.txt"
chmod -R a+rX "$tmp" # nginx workers run unprivileged
port=$(td_free_port) port2=$(td_free_port)
td_nginx "$port" "$tmp/www" "listen 127.0.0.1:$port2 ssl; ssl_certificate $tmp/origin.crt; ssl_certificate_key $tmp/origin.key;
        location = /sni { return 200 \"sni=\$ssl_server_name proto=\$ssl_protocol\"; }"
port3=$(td_free_port)
td_nginx "$port3" "$tmp/www" "listen 127.0.0.1:$(td_free_port) ssl; ssl_certificate $tmp/other.crt; ssl_certificate_key $tmp/other.key;"
other_tls=$(sed -n 's/.*listen 127.0.0.1:\([0-9]*\) ssl.*/\1/p' "$TD_NGINX_CONF")
td_wait_port "$port2"; td_wait_port "$other_tls"

px_start_proxy --upstream "https://localhost:$port2" --upstream-ca "$tmp/ca.crt" --capture-dir "$tmp/cap" --no-dictionary \
  --h2c
for f in hi.txt big.bin; do
  [ "$(curl -fsS "http://127.0.0.1:$PROXY_PORT/$f" | px_sha)" = "$(px_sha <"$tmp/www/$f")" ] || td_fail "/$f over the https upstream differs"
  [ "$(curl -fsS --http2-prior-knowledge "http://127.0.0.1:$PROXY_PORT/$f" | px_sha)" = "$(px_sha <"$tmp/www/$f")" ] \
    || td_fail "/$f from an h2 client over the https upstream differs"
done
sni=$(curl -fsS "http://127.0.0.1:$PROXY_PORT/sni")
[[ $sni == "sni=localhost proto=TLSv1."[23] ]] || td_fail "the upstream saw: $sni"
for _ in 1 2 3 4 5; do curl -fsS -o /dev/null "http://127.0.0.1:$PROXY_PORT/hi.txt"; done
[ "$(px_metric 'tapedeck_proxy_upstream_requests_total{connection="reused"}')" -ge 4 ] || td_fail "TLS upstream connections were not reused"
px_stop_proxy
[ "$("$BIN/tapedeck-capture" ls "$tmp/cap" | awk '$5 == 200' | wc -l)" -ge 10 ] || td_fail "exchanges over the https upstream were not recorded"

# the system CAs do not know the test CA: 502, and the reason is in the answer and the record
px_start_proxy --upstream "https://localhost:$port2" --capture-dir "$tmp/cap2" --no-dictionary
code=$(curl -sS -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$PROXY_PORT/hi.txt")
[ "$code" = 502 ] || td_fail "an unverifiable upstream certificate gave $code, not 502"
px_stop_proxy
px_dump "$tmp/cap2" | grep -aqi '^WARC-Tapedeck-Error: connect .*certificate' || td_fail "the record does not say the certificate failed"
# a certificate for another name, from the right CA: refused too
px_start_proxy --upstream "https://localhost:$other_tls" --upstream-ca "$tmp/ca.crt" --capture-dir "$tmp/cap3" \
  --no-dictionary --h2c
code=$(curl -sS -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$PROXY_PORT/hi.txt")
[ "$code" = 502 ] || td_fail "a certificate for another host name gave $code, not 502"
code=$(curl -sS --http2-prior-knowledge -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$PROXY_PORT/hi.txt")
[ "$code" = 502 ] || td_fail "a certificate for another host name gave $code to an h2 client, not 502"
grep -qi 'hostname mismatch' "$tmp/body" || td_fail "the h2 502 does not say why: $(cat "$tmp/body")"
px_stop_proxy
[ "$(px_dump "$tmp/cap3" | grep -aci '^WARC-Tapedeck-Error: connect .*hostname mismatch')" = 2 ] \
  || td_fail "the records do not say the host name did not match"
"$BIN/tapedeck-proxy" --upstream "https://localhost:$port2" --upstream-ca "$tmp/nope.pem" 2>"$tmp/err" && td_fail "a missing --upstream-ca was accepted"
grep -q 'upstream-ca' "$tmp/err" || td_fail "a missing --upstream-ca: $(cat "$tmp/err")"
echo "ok: https upstream"
