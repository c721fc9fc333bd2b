#!/usr/bin/env bash
# e2e: a recorded response is read straight into the record's buffer and forwarded from there (see
# proxy/proxy_conn_rec.c). On one keep-alive connection, responses of growing, shrinking and equal sizes
# (so reads land in a written record's buffer, in a fresh one, or in the socket's input), interim
# responses, chunked and close-delimited bodies, HEAD: every client gets every byte, and every record
# holds exactly the response (no interim head, nothing past its end); with --max-body the record is cut
# at the limit and says so while the client still gets everything.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
px_start_origin
sizes="65536 65536 300 200000 65536&p=7000 65536 70000 100 65536&p=30000 40000 65536 131072 65536"
check() { # capture dir, max body: every /bytes record holds the pattern (cut at max body, flagged)
  python3 - "$1" "$2" <<'PY'
import re, subprocess, sys, glob
d, maxb = sys.argv[1], int(sys.argv[2])
def pattern(n):
    return b"".join(bytes((i + j // 256) % 256 for i in range(256)) for j in range(0, n + 255, 256))[:n]
raw = b"".join(subprocess.run(["zstdcat", "-q", f], capture_output=True).stdout for f in sorted(glob.glob(d + "/*.warc.zst*")))
pos, seen = 0, {}
while True:
    i = raw.find(b"WARC/1.1\r\n", pos)
    if i < 0:
        break
    he = raw.index(b"\r\n\r\n", i)
    head = raw[i:he].decode("latin-1")
    n = int(re.search(r"Content-Length: (\d+)", head).group(1))
    block = raw[he + 4:he + 4 + n]
    pos = he + 4 + n
    if "WARC-Type: response" not in head:
        continue
    uri = re.search(r"WARC-Target-URI: (\S+)", head).group(1)
    hb = block.index(b"\r\n\r\n") + 4
    status, body = block[:hb], block[hb:]
    path = uri.split("/", 3)[3]
    seen[path] = seen.get(path, 0) + 1
    if not status.startswith(b"HTTP/1.1 200 "):
        sys.exit("%s: recorded response starts %r (an interim head in the record?)" % (uri, status[:20]))
    m = re.match(r"bytes\?n=(\d+)", path)
    if "head=1" in path:
        if body:
            sys.exit("%s: a HEAD response recorded with a body of %d bytes" % (uri, len(body)))
    elif m:
        want = int(m.group(1))
        cut = want > maxb
        exp = pattern(min(want, maxb))
        if body != exp:
            k = next((j for j in range(min(len(body), len(exp))) if body[j] != exp[j]), min(len(body), len(exp)))
            sys.exit("%s: recorded body %d bytes, want %d; first difference at %d" % (uri, len(body), len(exp), k))
        if cut != ("WARC-Truncated: length" in head):
            sys.exit("%s: WARC-Truncated %s, want %s" % (uri, not cut, cut))
    elif path == "hints" and body != b"after hints\n":
        sys.exit("hints: recorded body %r" % body[:40])
    elif path == "chunked" and not (body.startswith(b"c\r\nfirst chunk\n") and body.endswith(b"0\r\n\r\n")):
        sys.exit("chunked: recorded body %r...%r" % (body[:20], body[-20:]))
    elif path == "close" and body != b"until close\n" * 100:
        sys.exit("close: recorded body of %d bytes" % len(body))
print("records:", sum(seen.values()), "of", len(seen), "targets")
PY
}
for maxb in 1048576 40000; do
  px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --capture-dir "$tmp/c$maxb" --no-dictionary \
    --max-body "$maxb"
  : >"$tmp/urls"
  for round in 1 2 3; do
    for n in $sizes; do printf 'url = "http://127.0.0.1:%s/bytes?n=%s"\noutput = "%s/got.%s"\n' "$PROXY_PORT" "$n" "$tmp" "${n%%&*}"; done >>"$tmp/urls"
    printf 'url = "http://127.0.0.1:%s/hints"\noutput = "/dev/null"\n' "$PROXY_PORT" >>"$tmp/urls"
    printf 'url = "http://127.0.0.1:%s/chunked"\noutput = "/dev/null"\n' "$PROXY_PORT" >>"$tmp/urls"
  done
  curl -fsS -K "$tmp/urls" || td_fail "a request through the recording proxy failed"
  for n in $sizes; do
    n=${n%%&*}
    [ "$(stat -c %s "$tmp/got.$n")" = "$n" ] || td_fail "the client got $(stat -c %s "$tmp/got.$n") bytes of /bytes?n=$n"
  done
  curl -fsS -I -o /dev/null "http://127.0.0.1:$PROXY_PORT/bytes?n=65536&head=1" || td_fail "HEAD"
  curl -fsS -o /dev/null -o /dev/null "http://127.0.0.1:$PROXY_PORT/bytes?n=65536" "http://127.0.0.1:$PROXY_PORT/close" ||
    td_fail "close-delimited"
  sleep 0.3
  px_stop_proxy
  check "$tmp/c$maxb" "$maxb" || td_fail "--max-body $maxb: a record differs from the response"
done
echo "ok: responses read into the record: every byte forwarded, every record exact, cut at --max-body"
