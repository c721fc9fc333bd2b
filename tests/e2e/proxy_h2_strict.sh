#!/usr/bin/env bash
# e2e: the HTTP/2 twins of the HTTP/1 framing rules. Each malformed request (RFC 9113 8.1.1, 8.2, 8.3)
# is a stream reset with PROTOCOL_ERROR, reaches nothing upstream, and the same connection then serves a
# good request: connection-specific fields (Connection, TE other than trailers, Transfer-Encoding), an
# uppercase field name, a method HTTP/1 would refuse, a pseudo-header after a field or unknown, no :path, CR/LF in a value, two
# different Content-Lengths, Host against :authority, DATA shorter or longer than Content-Length. A header
# list over the 64 KiB cap is a 431 (as over HTTP/1).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

px_start_origin
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --h2c
for v in bad-connection bad-method bad-te bad-transfer-encoding bad-upper bad-pseudo-late bad-no-path bad-crlf bad-two-cl \
         bad-host bad-cl-short bad-cl-long header-list; do
  out=$(python3 "$PX_DIR/h2_raw.py" "$PROXY_PORT" "$v") || td_fail "$v: $out"
  echo "$v: $out"
done
grep -E '/bad-|/big' "$ORIGIN_LOG" && td_fail "a malformed request reached the origin"
n=$(grep -c '/after' "$ORIGIN_LOG")
[ "$n" = 13 ] || td_fail "the good requests after each bad one: $n of 13 reached the origin"
[ "$(px_metric 'tapedeck_proxy_rejected_total{code="431"}')" -ge 1 ] || td_fail "no 431 counted"
px_stop_proxy
echo "ok: h2 framing rules"
