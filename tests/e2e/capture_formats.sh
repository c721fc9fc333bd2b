#!/usr/bin/env bash
# e2e: the shapes other writers produce, one fixture per shape, and the defects they used to hit.
# WARC: digests in base16/base32/base64 (sha1, sha256) accepted, a wrong one refused; a damaged
# .warc.gz member named at the same offset by ls, verify and cat; impossible timing refused.
# GoReplay: .gor.gz read; non-HTTP payloads skipped and counted; response latency as input_raw
# writes it. HAR: BOM, \u0000, postData.params, data: entries, HTTP/1.0, no Host. import of several
# files keeps connections apart. And the round-trip property: import -> export -> import keeps method,
# target, status, version, headers and body for every fixture.
source "$(dirname "$0")/../lib/common.sh"
TC=$BIN/tapedeck-capture
T=$(td_tmpdir)

run() { # want_rc, args...
    local want=$1 rc; shift
    set +e; "$TC" "$@" >"$T/out" 2>&1; rc=$?; set -e
    [ $rc -eq "$want" ] || td_fail "tapedeck-capture $*: exit $rc, want $want
$(cat "$T/out")"
}
has() { grep -qF -- "$1" "$T/out" || td_fail "output lacks '$1':
$(cat "$T/out")"; }
lacks() { ! grep -qF -- "$1" "$T/out" || td_fail "output has '$1':
$(cat "$T/out")"; }

python3 - "$T" <<'PY'
import base64, gzip, hashlib, sys
T = sys.argv[1]
def rec(typ, rid, uri, block, to=None, extra=(), digest=None, ver="WARC/1.0"):
    h = [ver, f"WARC-Type: {typ}", f"WARC-Record-ID: <urn:uuid:{rid}>", "WARC-Date: 2026-12-02T00:42:44Z"]
    if uri: h.append(f"WARC-Target-URI: {uri}")
    if to: h.append(f"WARC-Concurrent-To: <urn:uuid:{to}>")
    if typ in ("request", "response"): h.append(f"Content-Type: application/http;msgtype={typ}")
    if digest: h.append(f"WARC-Payload-Digest: {digest}")
    h += list(extra)
    h.append(f"Content-Length: {len(block)}")
    return ("\r\n".join(h) + "\r\n\r\n").encode() + block + b"\r\n\r\n"
body = b'{"ok":true}'
resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n" + body
req = b"GET /d HTTP/1.1\r\nHost: a.test\r\n\r\n"
def enc(algo, kind):
    d = hashlib.new(algo, body).digest()
    return algo + ":" + {"b16": d.hex(), "B16": d.hex().upper(), "b32": base64.b32encode(d).decode(),
                         "b64": base64.b64encode(d).decode(), "b64np": base64.b64encode(d).decode().rstrip("=")}[kind]
recs = []
for i, (algo, kind) in enumerate([(a, k) for a in ("sha1", "sha256") for k in ("b16", "B16", "b32", "b64", "b64np")]):
    recs.append(rec("request", f"q{i}", "<http://a.test/d>", req))
    recs.append(rec("response", f"r{i}", "<http://a.test/d>", resp, to=f"q{i}", digest=enc(algo, kind)))
# chunked: WARC digests the de-chunked body; many writers digest the bytes as sent, framing included
chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
framed = b"5\r\n" + body[:5] + b"\r\n6\r\n" + body[5:] + b"\r\n0\r\n\r\n"
for i, payload in enumerate((body, framed)):
    d = "sha1:" + base64.b32encode(hashlib.sha1(payload).digest()).decode()
    recs.append(rec("request", f"cq{i}", "<http://a.test/d>", req))
    recs.append(rec("response", f"cr{i}", "<http://a.test/d>", chunked + framed, to=f"cq{i}", digest=d))
open(f"{T}/digests.warc", "wb").write(b"".join(recs))
bad = rec("request", "q", "<http://a.test/d>", req) + rec("response", "r", "<http://a.test/d>", resp, to="q",
          digest="sha1:" + hashlib.sha1(b"other").hexdigest())
open(f"{T}/baddigest.warc", "wb").write(bad)
# one gzip member per record, the fourth damaged
members = [gzip.compress(r) for r in recs[:6]]
off = sum(len(m) for m in members[:3])
m = bytearray(members[3]); m[len(m) // 2] ^= 0x5A; members[3] = bytes(m)
open(f"{T}/damaged.warc.gz", "wb").write(b"".join(members))
open(f"{T}/damaged.offset", "w").write(str(off))
# impossible timing: Response-End before Response-First
open(f"{T}/timing.warc", "wb").write(rec("request", "q", "http://a.test/d", req, ver="WARC/1.1",
    extra=["WARC-Tapedeck-Request-Start: 1795996590000000"]) + rec("response", "r", "http://a.test/d", resp, to="q",
    ver="WARC/1.1", extra=["WARC-Tapedeck-Response-First: 1795996590500000", "WARC-Tapedeck-Response-End: 1795996590400000"]))
# GoReplay: a request/response, a non-HTTP payload, a bare-LF chunked response, gzip'd
SEP = "\n\U0001F435\U0001F648\U0001F649\n".encode()
def gor(t, i, ts, lat, payload): return f"{t} {i:024x} {ts} {lat}\n".encode() + payload + SEP
g = gor(1, 1, 1795996590000000000, -1, req) + gor(2, 1, 1795996590002000000, 3000000, resp)
g += gor(1, 2, 1795996591000000000, -1, b"\x16\x03\x01\x02\x00binary-tls-hello") + gor(2, 2, 1795996591001000000, 1000, b"\x00\x01")
g += gor(1, 3, 1795996592000000000, -1, b"GET /c HTTP/1.1\r\nHost: a.test\r\n\r\n")
g += gor(2, 3, 1795996592001000000, 1000, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n")
open(f"{T}/a.gor.gz", "wb").write(gzip.compress(g))
PY

# ---- shapes of other writers: no trailer after the last record, responses only, a whole-file zstd
# frame; and files that are not WARC at all (unsupported: exit 2, not damage) ----
python3 - "$T" <<'PY'
import gzip, sys
T = sys.argv[1]
resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
def r(rid, path):
    return (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{rid}>\r\n"
            f"WARC-Date: 2017-03-06T16:54:09Z\r\nWARC-Target-URI: http://a.test{path}\r\n"
            f"Content-Type: application/http;msgtype=response\r\nContent-Length: {len(resp)}\r\n\r\n").encode() + resp
open(f"{T}/responses.warc", "wb").write(r("1", "/x?q=1") + b"\r\n\r\n" + r("2", "/y"))  # last without trailer
open(f"{T}/responses.warc.gz", "wb").write(gzip.compress(r("1", "/x?q=1") + b"\r\n\r\n") + gzip.compress(r("2", "/y")))
open(f"{T}/junk.warc", "wb").write(b"this is not a WARC file\n")
open(f"{T}/old.arc.gz", "wb").write(gzip.compress(b"filedesc://old.arc 0.0.0.0 20050614070159 text/plain 76\n"))
PY
for f in responses.warc responses.warc.gz; do
    run 0 ls "$T/$f"
    has "1 2017-03-06T16:54:09.000000Z GET /x?q=1 200 -"
    has "2 2017-03-06T16:54:09.000000Z GET /y 200 -"
    has "2 responses without a request record: listed with a GET request made from WARC-Target-URI"
    run 0 verify "$T/$f"
    has "ok: 2 records (2 exchanges)"
done
run 0 cat "$T/responses.warc"
[ "$(tail -c 4 "$T/out" | od -An -c | tr -d ' ')" == '\r\n\r\n' ] || td_fail "cat did not complete the last record"
zstd -q -c "$T/responses.warc" >"$T/whole.warc.zst" # one zstd frame for the whole file
run 0 verify "$T/whole.warc.zst"
has "ok: 2 records (2 exchanges); zstd"
for f in junk.warc old.arc.gz; do
    run 2 verify "$T/$f"
    has "cannot be read"
    run 2 ls "$T/$f"
    has "$f: offset 0: "
done
run 2 ls "$T/old.arc.gz"
has "an ARC file, not WARC"

# ---- digests: every encoding writers use is accepted; a wrong one is not ----
run 0 verify "$T/digests.warc"
has "ok: 24 records (12 exchanges); plain WARC"
run 1 verify "$T/baddigest.warc"
has "WARC-Payload-Digest does not match the response body"

# ---- one damage, one offset, for ls, verify and cat ----
off=$(cat "$T/damaged.offset")
run 1 verify "$T/damaged.warc.gz"
has "damaged.warc.gz: offset $off: damaged frame: damaged gzip member"
run 2 ls "$T/damaged.warc.gz"
has "damaged.warc.gz: offset $off: damaged gzip member"
run 2 cat "$T/damaged.warc.gz"
has "damaged.warc.gz: offset $off: damaged gzip member"
[ "$(grep -c '^WARC-Type: ' "$T/out")" -eq 3 ] || td_fail "cat did not write the 3 records before the damage"

# ---- impossible timing ----
run 1 verify "$T/timing.warc"
has "impossible timing: WARC-Tapedeck-Response-End"

# ---- GoReplay ----
run 0 import -o "$T/gor.warc.zst" "$T/a.gor.gz"
has "skipped 2 of 3 exchanges whose payloads are not whole HTTP messages"
has "1 exchanges written"
run 0 verify "$T/gor.warc.zst"
run 0 ls --json "$T/gor.warc.zst"
has '"method":"GET","target":"/d"'
has '"latency_ms":5.000' # request start to the response's last byte: 2 ms to its first, 3 ms long
lacks '"method":"?"'
run 0 export --format goreplay -o "$T/back.gor" "$T/gor.warc.zst"
grep -qa "^2 0*1 1795996590002000000 3000000$" "$T/back.gor" || td_fail "export wrote another latency: $(head -c 300 "$T/back.gor")"

# ---- HAR ----
python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
def entry(method, url, status=200, text="ok", ver="HTTP/1.1", headers=(), post=None):
    req = {"method": method, "url": url, "httpVersion": ver, "headers": list(headers), "queryString": [],
           "cookies": [], "headersSize": -1, "bodySize": -1}
    if post: req["postData"] = post
    return {"startedDateTime": "2026-01-01T00:00:00.000Z", "time": 3, "request": req,
            "response": {"status": status, "statusText": "OK", "httpVersion": ver, "headers": [], "cookies": [],
                         "content": {"size": len(text), "mimeType": "text/plain", "text": text},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 0, "wait": 2, "receive": 1}}
entries = [entry("GET", "http://a.test/one", ver="HTTP/1.0"),
           entry("GET", "data:image/png;base64,AAAA"),
           entry("GET", "http://b.test:8080/nul", text="a\u0000b"),
           entry("POST", "http://a.test/form", post={"mimeType": "application/x-www-form-urlencoded",
                 "params": [{"name": "q", "value": "a b&c"}, {"name": "n", "value": "1"}]}),
           entry("CONNECT", "a.test:443"),  # a proxy's tunnel (Charles, Fiddler)
           entry("GET", "https://a.test/frag?x=1#top")]
entries[-1]["startedDateTime"] = "2026-01-01T00:00:01.1234567"  # no zone, 7 digits (Fiddler-like)
doc = {"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": entries}}
open(f"{T}/a.har", "wb").write(b"\xef\xbb\xbf" + json.dumps(doc).encode())
PY
run 0 import -o "$T/har.warc.zst" "$T/a.har"
has "skipped 2 entries that are not HTTP exchanges (the first, entries[1]: a data:"
has "4 exchanges written"
lacks "JSON_"
run 0 show --raw 1 "$T/har.warc.zst"
has "GET /one HTTP/1.0"
run 0 show --raw 3 "$T/har.warc.zst"
has "q=a+b%26c&n=1"
run 0 show --raw 4 "$T/har.warc.zst"
has "GET /frag?x=1 HTTP/1.1" # the fragment is the browser's
run 0 ls "$T/har.warc.zst"
has "4 2026-01-01T00:00:01.123456Z GET /frag?x=1 200"
run 0 export --curl "$T/har.warc.zst"
has "http://b.test:8080/nul"
lacks "http:///"

# ---- several inputs: connections kept apart ----
run 0 import -o "$T/two.warc.zst" "$T/a.har" "$T/a.har"
run 0 ls --json "$T/two.warc.zst"
[ "$(grep -o '"conn":[0-9]*' "$T/out" | sort -u | wc -l)" -eq 8 ] || td_fail "connection ids reused across inputs:
$(cat "$T/out")"

# ---- the round-trip property: import -> export -> import keeps what replay needs ----
python3 "$ROOT/tests/e2e/capture_fixture.py" >"$T/ex.json"
python3 "$ROOT/tests/lib/mkcapture.py" "$T/ex.json" "$T/fixture.warc.zst"
fields() { # capture -> method, target, status, version, headers and body of every exchange (via HAR)
    "$TC" export --format har "$1" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["log"]["entries"]:
    q, r = e["request"], e["response"]
    hs = lambda m: sorted((h["name"].lower(), h["value"]) for h in m["headers"] if h["name"].lower() not in ("content-length", "transfer-encoding"))
    print(json.dumps([q["method"], q["url"], q["httpVersion"], hs(q), q.get("postData", {}).get("text"),
                      r["status"], r["httpVersion"], hs(r), r["content"].get("text")]))'
}
for cap in "$T/fixture.warc.zst" "$T/har.warc.zst" "$T/gor.warc.zst" "$T/digests.warc"; do
    for fmt in har goreplay; do
        "$TC" export --format $fmt -o "$T/rt.$fmt" "$cap" 2>/dev/null || td_fail "export $fmt $cap"
        "$TC" import -q --format $fmt -o "$T/rt.warc.zst" "$T/rt.$fmt" 2>/dev/null || td_fail "import $fmt of $cap"
        "$TC" export --format $fmt -o "$T/rt2.$fmt" "$T/rt.warc.zst" 2>/dev/null
        "$TC" import -q --format $fmt -o "$T/rt2.warc.zst" "$T/rt2.$fmt" 2>/dev/null || td_fail "import2 $fmt of $cap"
        diff <(fields "$T/rt.warc.zst") <(fields "$T/rt2.warc.zst") >"$T/diff" ||
            td_fail "$fmt round trip of $(basename "$cap") changed exchanges:
$(cat "$T/diff")"
        [ -n "$(fields "$T/rt.warc.zst")" ] || td_fail "$fmt round trip of $cap: nothing left"
    done
    # and the first import keeps what the source had (HAR: bodies and versions as recorded)
    "$TC" export --format har -o "$T/rt.har" "$cap" 2>/dev/null
    "$TC" import -q -o "$T/rt.warc.zst" "$T/rt.har" 2>/dev/null
    diff <(fields "$cap" 2>/dev/null) <(fields "$T/rt.warc.zst") >"$T/diff" ||
        td_fail "HAR import of the export of $(basename "$cap") differs from it:
$(cat "$T/diff")"
done
echo "ok: other writers' shapes read; digests, damage offsets, timing, GoReplay and HAR fixed; round trips keep exchanges"
