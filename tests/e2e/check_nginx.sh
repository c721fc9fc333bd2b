#!/usr/bin/env bash
# Bodies compared after de-chunking and content-decoding: a capture recorded from nginx with gzip on
# (responses stored gzip-encoded and chunked, as they crossed the wire) compares equal against the same
# files served plain (gzip off, Content-Length) and gzip-encoded again; a changed JSON file is named by
# path, a changed text file by a context snippet, a changed binary by digest; --compare-header and
# --ignore-header work on response headers; --http2 speaks h2c (and h2 over TLS) to nginx and compares the
# same way; https with --insecure works, and without it a self-signed certificate is trouble (exit 2).
source "$(dirname "$0")/../lib/common.sh"
td_tmpdir >/dev/null # sets TD_TMP in this shell, so helpers and cleanup share it
T=$(td_tmpdir)
mkdir -p "$T/a" "$T/b"
chmod 755 "$T" "$T/a" "$T/b" # nginx workers run as another user
python3 - "$T/a" "$T/b" <<'PY'
import json, os, sys
a, b = sys.argv[1], sys.argv[2]
trips = [{"id": i, "name": f"Trip {i}", "distance": i * 1.5, "tags": ["x"] * (i % 3)} for i in range(200)]
json.dump({"count": len(trips), "items": trips}, open(f"{a}/trips.json", "w"))
trips[17]["distance"] = "25.5 km"
json.dump({"count": len(trips), "items": trips}, open(f"{b}/trips.json", "w"))
text = "".join(f"line {i}: the quick brown fox\n" for i in range(500))
open(f"{a}/notes.txt", "w").write(text)
open(f"{b}/notes.txt", "w").write(text.replace("line 250: the quick", "line 250: the slow"))
blob = bytes(range(256)) * 64
open(f"{a}/blob.bin", "wb").write(blob)
open(f"{b}/blob.bin", "wb").write(blob[:-1] + b"\x00")
PY
cat >"$T/script.json" <<'EOF2'
[{"conn": 1, "path": "/trips.json", "headers": {"Accept-Encoding": "gzip"}},
 {"conn": 1, "path": "/notes.txt", "headers": {"Accept-Encoding": "gzip"}},
 {"conn": 2, "path": "/blob.bin", "headers": {"Accept-Encoding": "gzip"}},
 {"conn": 2, "path": "/trips.json", "headers": {"Accept-Encoding": "gzip, deflate"}},
 {"conn": 3, "path": "/token", "headers": {"X-Token": "recorded-token"}}]
EOF2
TYPES='types { application/json json; text/plain txt; application/octet-stream bin; }
  location = /token { default_type text/plain; return 200 "token=$http_x_token\n"; }'
GZ="gzip on; gzip_types application/json text/plain; gzip_min_length 1; add_header X-Build one;"
gz=$(td_free_port); td_nginx "$gz" "$T/a" "$TYPES $GZ"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 2 -keyout "$T/key.pem" -out "$T/cert.pem" \
    2>/dev/null
chmod 644 "$T/key.pem"
plain=$(td_free_port); h2=$(td_free_port); tls=$(td_free_port)
td_nginx "$plain" "$T/a" "$TYPES gzip off; add_header X-Build two; listen 127.0.0.1:$h2 http2;
    listen 127.0.0.1:$tls ssl http2; ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem;"
changed=$(td_free_port); td_nginx "$changed" "$T/b" "$TYPES $GZ"

python3 "$ROOT/tests/lib/mkcapture_check.py" --target "http://127.0.0.1:$gz" --out "$T/rec.warc.zst" "$T/script.json"
# The capture holds the encoded, chunked bytes.
zstdcat "$T/rec.warc.zst" >"$T/rec.warc"
grep -qa "Content-Encoding: gzip" "$T/rec.warc" || td_fail "capture: no gzip response"
grep -qa "Transfer-Encoding: chunked" "$T/rec.warc" || td_fail "capture: no chunked response"
[ "$(grep -ac '^HTTP/1.1 200 OK' "$T/rec.warc")" = 5 ] || td_fail "capture: not five 200 responses"

check() { # expected-exit name args...
    local want=$1 name=$2 rc=0
    shift 2
    "$BIN/tapedeck-replay" check "$T/rec.warc.zst" --no-progress --report-json "$T/$name.json" "$@" \
        >"$T/$name.out" 2>"$T/$name.err" || rc=$?
    [ "$rc" = "$want" ] || { cat "$T/$name.out" "$T/$name.err" >&2; td_fail "$name: exit $rc, wanted $want"; }
}
check 0 same --target "http://127.0.0.1:$gz"
check 0 plain --target "http://127.0.0.1:$plain"
# HTTP/2 (h2c, prior knowledge) to the same files: equal, and really spoken.
check 0 h2 --target "http://127.0.0.1:$h2" --http2
grep -q '"GET /trips.json HTTP/2.0" 200' "$T/nginx-$plain/logs/access.log" || td_fail "h2: nginx saw no HTTP/2 request"
# HTTPS: HTTP/1.1 unless --http2 (then h2 by ALPN); a certificate that does not verify is trouble (exit 2).
check 0 tls --target "https://127.0.0.1:$tls" --insecure
check 0 tls-h2 --target "https://127.0.0.1:$tls" --insecure --http2
[ "$(grep -c 'HTTP/2.0" 200' "$T/nginx-$plain/logs/access.log")" = 10 ] || td_fail "tls-h2: not 5 + 5 HTTP/2 requests"
check 2 tls-unverified --target "https://127.0.0.1:$tls"
grep -qi "certificate" "$T/tls-unverified.err" || td_fail "tls-unverified: the reason is not given"
# --set-header replaces the recorded header (nginx echoes it in /token's body).
check 1 set-header --target "http://127.0.0.1:$gz" --set-header 'X-Token: test-token'
grep -q 'body: expected at byte 6: token=recorded-token\\n, got at byte 6: token=test-token\\n' \
    "$T/set-header.out" || td_fail "set-header: the replaced header did not reach the target"
# Headers: compared only when asked, and not when ignored.
check 1 header --target "http://127.0.0.1:$plain" --compare-header X-Build
grep -q 'header:X-Build: expected one, got two' "$T/header.out" || td_fail "header diff not shown"
check 0 header-ignored --target "http://127.0.0.1:$plain" --compare-header X-Build --ignore-header x-build
# Changed files: JSON by path, text by snippet, binary by digest.
check 1 changed --target "http://127.0.0.1:$changed" --show-diffs 20
grep -q '\$.items\[17\].distance: expected 25.5, got "25.5 km"' "$T/changed.out" || td_fail "JSON path not named"
grep -q 'body: expected at byte [0-9]*: .*line 250: the quick.*, got .*line 250: the slow' "$T/changed.out" \
    || td_fail "text snippet not shown"
grep -q 'body: expected sha256:[0-9a-f]\{64\} (16384 bytes), got sha256:' "$T/changed.out" || td_fail "binary digest not shown"
# --ignore on an array wildcard hides the JSON change only.
check 1 changed-ignored --target "http://127.0.0.1:$changed" --ignore '$.items[*].distance'
! grep -q 'distance' "$T/changed-ignored.out" || td_fail "--ignore \$.items[*].distance did not apply"
echo "check_nginx: ok"
