#!/usr/bin/env bash
# e2e: TLS on the listener (--tls-cert/--tls-key). curl --http1.1 over TLS gets the origin's bytes;
# TLS 1.0/1.1 and plain HTTP are refused and counted as failed handshakes on /metrics; the capture says
# WARC-Protocol tls/1.x and an https:// target; SIGHUP re-reads the certificate: new handshakes present
# the new one while a connection opened before keeps working; a bad certificate on SIGHUP keeps the old.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"
source "$(dirname "$0")/proxy_tls_lib.bash"

tmp=$(td_tmpdir)
px_mkcert "$tmp" a
px_mkcert "$tmp" b
cp "$tmp/a.crt" "$tmp/cert.pem" && cp "$tmp/a.key" "$tmp/key.pem"
px_start_origin
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" \
  --capture-dir "$tmp/cap" --no-dictionary
url="https://localhost:$PROXY_PORT"

# 1. bodies over TLS equal the direct ones (a plain body, a chunked one, a POST)
for path in /hello /chunked; do
  direct=$(curl -fsS "http://127.0.0.1:$ORIGIN_PORT$path" | px_sha)
  via=$(curl -fsS --http1.1 --cacert "$tmp/a.crt" "$url$path" | px_sha)
  [ "$direct" = "$via" ] || td_fail "$path over TLS differs from the direct body"
done
head -c 100000 /dev/urandom >"$tmp/body"
curl -fsS --http1.1 --cacert "$tmp/a.crt" --data-binary @"$tmp/body" "$url/echo" -o "$tmp/echoed"
cmp -s "$tmp/body" "$tmp/echoed" || td_fail "a 100 KB POST over TLS did not come back unchanged"
v=$(curl -fsS --http1.1 --cacert "$tmp/a.crt" -o /dev/null -w '%{http_version}' "$url/hello")
[ "$v" = 1.1 ] || td_fail "curl --http1.1 spoke HTTP/$v"

# 2. old protocol versions and cleartext are refused, and counted
ok0=$(px_metric 'tapedeck_proxy_tls_handshakes_total{result="ok"}')
((ok0 >= 4)) || td_fail "handshakes ok: $ok0, expected at least 4"
if curl -s --tlsv1.1 --tls-max 1.1 -k -o /dev/null "$url/hello" 2>/dev/null; then td_fail "a TLS 1.1 handshake succeeded"; fi
if curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$PROXY_PORT/hello" 2>/dev/null; then
  td_fail "cleartext HTTP was answered on the TLS listener"
fi
for _ in $(seq 50); do
  f=$(px_metric 'tapedeck_proxy_tls_handshakes_total{result="failed"}')
  [ "$f" != missing ] && ((f >= 2)) && break
  sleep 0.1
done
((f >= 2)) || td_fail "failed handshakes on /metrics: $f, expected 2"

# 3. SIGHUP re-reads the certificate without dropping a connection opened before
fp_a=$(px_fingerprint "$PROXY_PORT")
[ -n "$fp_a" ] || td_fail "no certificate presented"
python3 - "$PROXY_PORT" "$tmp/a.crt" "$tmp/sighup.flag" "$tmp/kept.out" <<'PY' &
import socket, ssl, sys, time, os
port, ca, flag, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
def get():
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
    d = b""
    while b"\r\n\r\n" not in d:
        d += s.recv(65536)
    head, body = d.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(body) < n:
        body += s.recv(65536)
    return head.split(b"\r\n")[0].decode()
first = get()
open(flag + ".ready", "w").close()
for _ in range(200):
    if os.path.exists(flag):
        break
    time.sleep(0.05)
open(out, "w").write(first + "\n" + get() + "\n")
PY
kept_pid=$!
for _ in $(seq 100); do [ -e "$tmp/sighup.flag.ready" ] && break; sleep 0.05; done
cp "$tmp/b.crt" "$tmp/cert.pem" && cp "$tmp/b.key" "$tmp/key.pem"
kill -HUP "$PROXY_PID"
for _ in $(seq 50); do
  fp=$(px_fingerprint "$PROXY_PORT")
  [ -n "$fp" ] && [ "$fp" != "$fp_a" ] && break
  sleep 0.1
done
[ "$fp" = "$(openssl x509 -in "$tmp/b.crt" -noout -fingerprint -sha256 | cut -d= -f2)" ] \
  || td_fail "after SIGHUP new handshakes do not present the new certificate"
touch "$tmp/sighup.flag"
wait "$kept_pid" || td_fail "the connection opened before SIGHUP failed"
[ "$(grep -c '200' "$tmp/kept.out")" = 2 ] || td_fail "the connection opened before SIGHUP: $(cat "$tmp/kept.out")"
curl -fsS --http1.1 --cacert "$tmp/b.crt" -o /dev/null "$url/hello" || td_fail "no request over the new certificate"
# a broken pair on SIGHUP: the proxy says so and keeps serving the current certificate
cp "$tmp/a.key" "$tmp/key.pem"
kill -HUP "$PROXY_PID"
for _ in $(seq 50); do grep -q 'keeping the current certificate' "$PROXY_LOG" && break; sleep 0.1; done
grep -q 'keeping the current certificate' "$PROXY_LOG" || td_fail "a mismatched key on SIGHUP was not reported"
curl -fsS --http1.1 --cacert "$tmp/b.crt" -o /dev/null "$url/hello" || td_fail "serving stopped after a bad SIGHUP"

# 4. the capture: https targets, WARC-Protocol tls/1.x on both records
px_stop_proxy
px_dump "$tmp/cap" >"$tmp/dump"
n=$("$BIN/tapedeck-capture" ls "$tmp/cap" | wc -l)
((n >= 8)) || td_fail "capture holds $n exchanges, expected at least 8"
grep -aq "^WARC-Target-URI: https://localhost:$PROXY_PORT/hello" "$tmp/dump" || td_fail "no https:// target URI recorded"
p=$(grep -ac '^WARC-Protocol: tls/1\.[23]' "$tmp/dump")
((p == 2 * n)) || td_fail "WARC-Protocol tls on $p records, expected $((2 * n))"
# bad flags
"$BIN/tapedeck-proxy" --upstream http://127.0.0.1:1 --tls-cert "$tmp/a.crt" 2>"$tmp/err" && td_fail "--tls-cert alone accepted"
grep -q 'go together' "$tmp/err" || td_fail "--tls-cert without --tls-key: $(cat "$tmp/err")"
"$BIN/tapedeck-proxy" --upstream http://127.0.0.1:1 --tls-cert "$tmp/nope" --tls-key "$tmp/a.key" 2>"$tmp/err" && td_fail "a missing certificate was accepted"
grep -q 'nope' "$tmp/err" || td_fail "a missing certificate file: $(cat "$tmp/err")"
echo "ok: TLS listener"
