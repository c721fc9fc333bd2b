#!/usr/bin/env bash
# e2e: tapedeck-capture filter / merge / import / export on known captures (tests/lib/mkcapture.py):
# each filter criterion gives the expected listing with byte-identical messages; merge interleaves two
# proxies' files by time with distinct connections; HAR and GoReplay round trips keep what ls and show
# print; export --curl commands run against a live nginx and get the recorded status and send the
# recorded body; bad input exits 2 with a message that says what and where.
source "$(dirname "$0")/../lib/common.sh"
TC=$BIN/tapedeck-capture
T=$(td_tmpdir)

python3 "$ROOT/tests/e2e/capture_fixture.py" >"$T/ex.json"
python3 "$ROOT/tests/lib/mkcapture.py" "$T/ex.json" "$T/a.warc.zst"

expect_eq() { # what, got, want
    [ "$2" == "$3" ] || td_fail "$1: got
$2
--- want
$3"
}
# The fixture's listing (tests/e2e/capture_cli.sh checks it); lines picked by exchange id below.
ls_a=$("$TC" ls "$T/a.warc.zst")
lines() { # ids... -> those lines of ls_a, renumbered 1.. as a filtered capture numbers them
    local i k=0
    for i in "$@"; do k=$((k + 1)); sed -n "${i}p" <<<"$ls_a" | sed "s/^[0-9]*/$k/"; done
}
check_filter() { # "ids" filter-options...
    local ids=$1; shift
    "$TC" filter -q -o "$T/f.warc.zst" "$@" "$T/a.warc.zst" || td_fail "filter $*: exit $?"
    "$TC" verify -q "$T/f.warc.zst" >/dev/null || td_fail "filter $*: the output does not verify"
    # shellcheck disable=SC2086
    expect_eq "filter $*" "$("$TC" ls "$T/f.warc.zst")" "$(lines $ids)"
    local k=0 i
    for i in $ids; do # the messages are copied byte for byte
        k=$((k + 1))
        cmp -s <("$TC" show --raw "$i" "$T/a.warc.zst") <("$TC" show --raw "$k" "$T/f.warc.zst") ||
            td_fail "filter $*: exchange $i is not byte-identical in the output"
    done
}

# ---- filter: each criterion ----
check_filter "1 6" --method HEAD,get --route '/api/trips/{id}' --status 200
check_filter "2 8" --method POST --method PUT
check_filter "1 3 6 7" --route '/api/trips/{id}'
check_filter "4" --route '^/img/'
check_filter "2 4 5" --route '^/(img|api/(trips|profile))$|\.png$'
check_filter "7 8" --status 4xx,5xx
check_filter "3" --status -
check_filter "2" --status 201
check_filter "4 5 6" --since 2026-01-01T00:00:00.300Z --until 2026-01-01T01:00:00.6+01:00
check_filter "" --method DELETE
"$TC" filter -o "$T/f.warc.zst" --status 5xx "$T/a.warc.zst" 2>"$T/err"
grep -qx "1 of 8 exchanges written to $T/f.warc.zst" "$T/err" || td_fail "filter count: $(cat "$T/err")"
# everything else kept too: timing, connection ids, interim codes, truncation, errors
"$TC" filter -q -o "$T/all.warc.zst" --since 2000-01-01T00:00:00Z "$T/a.warc.zst"
expect_eq "filter keeps the ls --json fields" \
    "$("$TC" ls --json "$T/all.warc.zst" | sed 's/"record_id":"[^"]*"//')" \
    "$("$TC" ls --json "$T/a.warc.zst" | sed 's/"record_id":"[^"]*"//')"

# ---- merge: two proxies' files interleave by request start; connections stay apart ----
python3 - "$T/ex.json" "$T/p1.json" "$T/p2.json" <<'EOF'
import json, sys
ex = json.load(open(sys.argv[1]))["exchanges"]
base = 1767225600 * 1000000
p1, p2 = [], []
for i, e in enumerate(ex):
    e = dict(e)
    e["start_us"] = base + i * 100000
    e["conn"] = 1 + (i // 4)           # each proxy numbers its connections from 1
    e["seq"] = i % 4 // 2
    (p1 if i % 2 == 0 else p2).append(e)
# written out of order on purpose: a proxy writes an exchange when it ends, not when it starts
p1.reverse()
json.dump(p1, open(sys.argv[2], "w")); json.dump(p2, open(sys.argv[3], "w"))
EOF
python3 "$ROOT/tests/lib/mkcapture.py" "$T/p1.json" "$T/p1.warc.zst"
python3 "$ROOT/tests/lib/mkcapture.py" "$T/p2.json" "$T/p2.warc.zst"
"$TC" merge -o "$T/m.warc.zst" "$T/p1.warc.zst" "$T/p2.warc.zst" 2>"$T/err"
grep -qx "8 exchanges from 2 files written to $T/m.warc.zst" "$T/err" || td_fail "merge count: $(cat "$T/err")"
expect_eq "merge interleaves by time" "$("$TC" ls "$T/m.warc.zst")" "$ls_a"
got=$("$TC" ls --json "$T/m.warc.zst" | python3 -c '
import json, sys
print(" ".join("%d/%d" % (r["conn"], r["seq"]) for r in map(json.loads, sys.stdin)))')
# p1 had exchanges 1,3,5,7 on conns 1,1,2,2; p2 had 2,4,6,8 on conns 1,1,2,2 -> shifted to 3,3,4,4
expect_eq "merge keeps connections distinct per file" "$got" "1/0 3/0 1/1 3/1 2/0 4/0 2/1 4/1"
"$TC" verify -q "$T/m.warc.zst" >/dev/null || td_fail "merge output does not verify"

# ---- HAR round trip ----
"$TC" export --format har "$T/a.warc.zst" >"$T/a.har"
python3 - "$T/a.har" <<'EOF' || td_fail "HAR export is not what HAR 1.2 says"
import json, sys
h = json.load(open(sys.argv[1]))["log"]
assert h["version"] == "1.2" and h["creator"]["name"] == "tapedeck-capture", h
e = h["entries"]
assert len(e) == 8, len(e)
for x in e:
    for k in ("startedDateTime", "time", "request", "response", "cache", "timings"):
        assert k in x, k
assert e[0]["request"]["method"] == "GET" and e[0]["request"]["url"] == "http://api.test/api/trips/42?full=1"
assert e[0]["request"]["queryString"] == [{"name": "full", "value": "1"}]
assert e[0]["time"] == 12.5 and e[0]["timings"]["wait"] + e[0]["timings"]["receive"] == 12.5, e[0]
assert e[0]["response"]["content"]["text"] == '{"id":42,"a":1}'
assert e[1]["request"]["postData"]["text"] == '{"x":"y"}'
assert e[1]["response"]["content"]["text"] == '{"id":43}'       # chunked framing undone
assert e[2]["response"]["status"] == 0                          # upstream failure
assert e[3]["response"]["content"]["encoding"] == "base64"      # the PNG
assert e[4]["response"]["content"]["_tapedeckEncoded"] is True  # still gzip-coded
EOF
"$TC" import -q -o "$T/h.warc.zst" "$T/a.har"
expect_eq "HAR round trip: ls" "$("$TC" ls "$T/h.warc.zst")" "$ls_a"
for i in 1 2 3 4 5 6 7 8; do
    a=$("$TC" show "$i" "$T/a.warc.zst" | grep -v '^record ')
    b=$("$TC" show "$i" "$T/h.warc.zst" | grep -v '^record ')
    if [ "$i" = 2 ]; then # the chunked response comes back framed by Content-Length, same body
        a=$(sed -e 's/^--- response (76 bytes)/--- response/' -e 's/^Transfer-Encoding: chunked/FRAMING/' <<<"$a")
        b=$(sed -e 's/^--- response (52 bytes)/--- response/' -e '/^--- response/,$ s/^Content-Length: 9/FRAMING/' <<<"$b")
    fi
    expect_eq "HAR round trip: show $i" "$b" "$a"
done
# a browser-style HAR (HTTP/2 pseudo headers, decoded gzip body, no _tapedeck) imports too
cat >"$T/browser.har" <<'EOF'
{"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "entries": [
 {"startedDateTime": "2026-01-01T01:00:00.250+01:00", "time": 20.5,
  "request": {"method": "POST", "url": "https://api.test/api/trips?x=1", "httpVersion": "h2",
   "headers": [{"name": ":authority", "value": "api.test"}, {"name": ":method", "value": "POST"},
               {"name": "content-type", "value": "application/json"}, {"name": "content-length", "value": "99"}],
   "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 7,
   "postData": {"mimeType": "application/json", "text": "{\"a\":1}"}},
  "response": {"status": 201, "statusText": "", "httpVersion": "h2", "cookies": [],
   "headers": [{"name": "content-encoding", "value": "gzip"}, {"name": "content-type", "value": "application/json"}],
   "content": {"size": 9, "mimeType": "application/json", "text": "{\"id\":44}"},
   "redirectURL": "", "headersSize": -1, "bodySize": -1},
  "cache": {}, "timings": {"blocked": 1, "dns": -1, "connect": -1, "send": 0.5, "wait": 10, "receive": 9}}]}}
EOF
"$TC" import -q -o "$T/b.warc.zst" "$T/browser.har"
expect_eq "browser HAR: ls" "$("$TC" ls "$T/b.warc.zst")" \
    "1 2026-01-01T00:00:00.250000Z POST /api/trips?x=1 201 20.500"
"$TC" show --raw 1 "$T/b.warc.zst" >"$T/raw"
printf 'POST /api/trips?x=1 HTTP/1.1\r\ncontent-type: application/json\r\nContent-Length: 7\r\nHost: api.test\r\n\r\n{"a":1}HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nContent-Length: 9\r\n\r\n{"id":44}' |
    cmp - "$T/raw" || td_fail "browser HAR: the rebuilt messages differ: $(cat -A "$T/raw")"

# ---- GoReplay round trip: raw messages and times kept ----
"$TC" export --format goreplay -o "$T/a.gor" "$T/a.warc.zst"
head -1 "$T/a.gor" | grep -qE '^1 [0-9a-f]{24} 1767225600000000000 -1$' || td_fail "gor header: $(head -1 "$T/a.gor")"
[ "$(grep -c $'^\xf0\x9f\x90\xb5\xf0\x9f\x99\x88\xf0\x9f\x99\x89$' "$T/a.gor")" -eq 15 ] ||
    td_fail "gor: want 15 payloads (8 requests, 7 responses)"
"$TC" import -q -o "$T/g.warc.zst" "$T/a.gor"
expect_eq "GoReplay round trip: ls" "$("$TC" ls "$T/g.warc.zst")" "$ls_a"
for i in 1 2 3 4 5 6 7 8; do
    cmp -s <("$TC" show --raw "$i" "$T/a.warc.zst") <("$TC" show --raw "$i" "$T/g.warc.zst") ||
        td_fail "GoReplay round trip: exchange $i is not byte-identical"
done

# ---- export --curl against a live nginx ----
port=$(td_free_port)
mkdir -p "$T/www/api" "$T/bodies"
printf '{"ok":true}' >"$T/www/api/ok.json"
chmod 755 "$T" "$T/www" "$T/www/api"; chmod 777 "$T/bodies" # nginx workers run as another user
# /echo/ keeps each request body in a file (client_body_in_file_only) and proxies to the static files
td_nginx "$port" "$T/www" "location /echo/ { client_body_in_file_only on; client_body_temp_path $T/bodies;
    proxy_pass http://127.0.0.1:$port/api/; }"
python3 - "$T/curl.json" <<'EOF'
import json, sys, base64
def ex(req, status, **kw):
    d = {"request_b64": base64.b64encode(req).decode(), "response": "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n" % status}
    d.update(kw); return d
json.dump([
    ex(b"GET /api/ok.json HTTP/1.1\r\nHost: api.test\r\nAccept: */*\r\nX-Quote: it's \"q\" $HOME `x`\r\n\r\n", 200),
    ex(b"GET /api/missing?q=a'b&r=[1] HTTP/1.1\r\nHost: api.test\r\n\r\n", 404),
    ex(b"HEAD /api/ok.json HTTP/1.1\r\nHost: api.test\r\n\r\n", 200),
    ex(b"POST /api/ok.json HTTP/1.1\r\nHost: api.test\r\nContent-Length: 9\r\n\r\n{\"a\":\"'\"}", 405),
    ex(b"POST /echo/ok.json HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n"
       b"6\r\nl1\nl2\t\r\n4\r\n$'\\\\\r\n0\r\n\r\n", 405),
    ex(b"PUT /echo/ok.json HTTP/1.1\r\nHost: api.test\r\nContent-Length: 6\r\n\r\n\x00\x01\xff%b\n", 405),
    ex(b"POST /echo/ok.json HTTP/1.1\r\nHost: api.test\r\nContent-Length: 12\r\n\r\n@/etc/passwd", 405),
], open(sys.argv[1], "w"))
EOF
python3 "$ROOT/tests/lib/mkcapture.py" "$T/curl.json" "$T/c.warc.zst"
want=$("$TC" ls "$T/c.warc.zst" | awk '{print $5}')
for mode in inline files; do
    rm -f "$T/bodies"/*
    if [ $mode = files ]; then
        "$TC" export --curl --target "http://127.0.0.1:$port" --body-dir "$T/bodies-out" "$T/c.warc.zst" >"$T/cmds" 2>"$T/err" &&
            td_fail "--body-dir of a missing folder accepted"
        mkdir -p "$T/bodies-out"
        "$TC" export --curl --target "http://127.0.0.1:$port" --body-dir "$T/bodies-out" -o "$T/cmds" "$T/c.warc.zst"
    else
        "$TC" export --curl --target "http://127.0.0.1:$port/" "$T/c.warc.zst" >"$T/cmds"
    fi
    [ "$(wc -l <"$T/cmds")" -eq 7 ] || td_fail "curl ($mode): want 7 lines: $(cat "$T/cmds")"
    got=$(while IFS= read -r line; do
        eval "$line -o /dev/null -w '%{http_code}\n' --max-time 5" || echo "curl failed: $line"
    done <"$T/cmds")
    expect_eq "export --curl ($mode): statuses from nginx" "$got" "$want"
    got=$(cat "$T/bodies"/* | od -An -c | tr -s ' ')
    expect_eq "export --curl ($mode): bodies nginx got" "$got" "$(printf 'l1\nl2\t$'"'"'\\\\\0\001\377%%b\n@/etc/passwd' | od -An -c | tr -s ' ')"
done
# the shell words of the first command: the header with quotes, $ and backquotes comes through as recorded
words=$(eval "printf '%s\n' $(sed -n 1p "$T/cmds")")
grep -qxF "X-Quote: it's \"q\" \$HOME \`x\`" <<<"$words" || td_fail "curl: header not quoted right: $words"

# ---- bad input: exit 2 and say what and where ----
check_rc() { # want_rc, grep-pattern-for-stderr, args...
    local want=$1 pat=$2 rc; shift 2
    set +e; "$TC" "$@" >/dev/null 2>"$T/err"; rc=$?; set -e
    [ $rc -eq "$want" ] || td_fail "tapedeck-capture $*: exit $rc, want $want ($(cat "$T/err"))"
    grep -qE -- "$pat" "$T/err" || td_fail "tapedeck-capture $*: stderr lacks /$pat/: $(cat "$T/err")"
}
printf '{"log": {"entries": [ {"startedDateTime": "x",}\n' >"$T/bad.har"
check_rc 2 'bad.har: not a HAR file: line 1, column' import -o "$T/x.warc.zst" "$T/bad.har"
[ ! -e "$T/x.warc.zst" ] || td_fail "a failed import left its output behind"
printf '{"log": {"version": "1.2"}}' >"$T/noentries.har"
check_rc 2 'noentries.har: not a HAR file: no log.entries' import -o "$T/x.warc.zst" "$T/noentries.har"
python3 -c 'import json; print(json.dumps({"log": {"entries": [{"startedDateTime": "2026-01-01T00:00:00Z",
  "request": {"method": "GET", "url": "http://a/"}, "response": {"status": 200}}, {"startedDateTime": "2026-01-01T00:00:00Z",
  "request": {"url": "http://a/"}, "response": {"status": 200}}]}}))' >"$T/nomethod.har"
check_rc 2 'nomethod.har: entries\[1\]: request.method' import -o "$T/x.warc.zst" "$T/nomethod.har"
[ ! -e "$T/x.warc.zst" ] || td_fail "a failed import left its output behind"
check_rc 2 'missing.har: No such file' import -o "$T/x.warc.zst" "$T/missing.har"
printf 'GET / HTTP/1.1\r\n\r\n' >"$T/bad.gor"
check_rc 2 'bad.gor: offset 0: not a GoReplay payload header' import -o "$T/x.warc.zst" "$T/bad.gor"
check_rc 2 'missing.warc.zst' export --format har "$T/missing.warc.zst"
check_rc 2 "want har or goreplay" export --format xml "$T/a.warc.zst"
check_rc 2 "no output file" filter --status 200 "$T/a.warc.zst"
check_rc 2 "--status '2xy'" filter -o "$T/x.warc.zst" --status 2xy "$T/a.warc.zst"
check_rc 2 "--since 'yesterday'" filter -o "$T/x.warc.zst" --since yesterday "$T/a.warc.zst"
check_rc 2 "--route '\(': not a route nor a regular expression" filter -o "$T/x.warc.zst" --route '(' "$T/a.warc.zst"
check_rc 2 "the output is also an input" merge -o "$T/p1.warc.zst" "$T/p1.warc.zst" "$T/p2.warc.zst"
"$TC" ls "$T/p1.warc.zst" >/dev/null || td_fail "merge onto an input damaged it"
check_rc 2 "the output is also an input" export --format har -o "$T/a.warc.zst" "$T/a.warc.zst"
expect_eq "export onto an input damaged it" "$("$TC" ls "$T/a.warc.zst")" "$ls_a"
for sub in filter merge import export; do
    grep -q "Usage: tapedeck-capture $sub" <<<"$("$TC" "$sub" --help)" || td_fail "$sub --help"
done
echo "ok: filter, merge, HAR and GoReplay round trips, export --curl against nginx, bad input"
