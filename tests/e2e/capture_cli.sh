#!/usr/bin/env bash
# e2e: tapedeck-capture ls / show / stats / cat on a known capture (written by tests/lib/mkcapture.py,
# with and without a dictionary), read back by the tool, by zstd and by a third-party WARC reader
# (warcio.js); --help, --version and the exit codes for bad arguments.
source "$(dirname "$0")/../lib/common.sh"
TC=$BIN/tapedeck-capture
T=$(td_tmpdir)

python3 "$ROOT/tests/e2e/capture_fixture.py" >"$T/ex.json"
python3 "$ROOT/tests/lib/mkcapture.py" "$T/ex.json" "$T/plain.warc.zst"
python3 "$ROOT/tests/lib/mkcapture.py" --dictionary "$T/ex.json" "$T/dict.warc.zst"

expect_eq() { # what, got, want
    [ "$2" == "$3" ] || td_fail "$1: got
$2
--- want
$3"
}

# ---- ls: the exact listing (times fixed by the fixture), for both files ----
want_ls='1 2026-01-01T00:00:00.000000Z GET /api/trips/42?full=1 200 12.500
2 2026-01-01T00:00:00.100000Z POST /api/trips 201 30.000
3 2026-01-01T00:00:00.200000Z GET /api/trips/43 - -
4 2026-01-01T00:00:00.300000Z GET /img/1.png 200 2.000
5 2026-01-01T00:00:00.400000Z GET /api/profile 200 8.000
6 2026-01-01T00:00:00.500000Z HEAD /api/trips/42 200 1.000
7 2026-01-01T00:00:00.600000Z GET /api/trips/7f3e9a1b2c4d 404 4.000
8 2026-01-01T00:00:00.700000Z PUT /api/pois/123 503 50.000'
expect_eq "ls plain" "$("$TC" ls "$T/plain.warc.zst")" "$want_ls"
expect_eq "ls dictionary" "$("$TC" ls "$T/dict.warc.zst")" "$want_ls"

# ls --json: one valid object per line with the documented keys
"$TC" ls --json "$T/plain.warc.zst" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert len(rows) == 8, len(rows)
r = rows[0]
for k in ("id", "time", "method", "target", "route", "status", "latency_ms", "conn", "seq", "record_id",
          "request_bytes", "response_bytes", "interim", "truncated", "error"):
    assert k in r, k
assert r["route"] == "/api/trips/{id}" and r["status"] == 200 and r["latency_ms"] == 12.5, r
assert rows[1]["interim"] == [100], rows[1]
assert rows[2]["status"] is None and rows[2]["latency_ms"] is None, rows[2]
assert rows[2]["error"] == "connect: Connection refused", rows[2]
assert rows[6]["route"] == "/api/trips/{id}", rows[6]
assert rows[7]["truncated"] == ["request"], rows[7]
assert rows[0]["record_id"].startswith("urn:uuid:"), rows[0]
' || td_fail "ls --json"

# ---- show ----
out=$("$TC" show 1 "$T/dict.warc.zst")
for s in 'request     GET /api/trips/42?full=1' 'latency     12.500 ms' 'client      127.0.0.1:50000' \
    'User-Agent: t/1' 'HTTP/1.1 200 OK' '{"id":42,"a":1}'; do
    grep -qF -- "$s" <<<"$out" || td_fail "show 1 lacks '$s': $out"
done
out=$("$TC" show 2 "$T/plain.warc.zst")
grep -qF 'interim     100' <<<"$out" || td_fail "show 2: interim: $out"
grep -qx '{"id":43}' <<<"$out" || td_fail "show 2: the chunked body is not shown de-chunked: $out"
out=$("$TC" show 3 "$T/plain.warc.zst")
grep -qF -- '--- no response: connect: Connection refused' <<<"$out" || td_fail "show 3: $out"
out=$("$TC" show 4 "$T/plain.warc.zst")
grep -qE '^\(binary body, 48 bytes; first bytes: 89 50 4e 47' <<<"$out" || td_fail "show 4: binary summary: $out"
out=$("$TC" show 5 "$T/plain.warc.zst")
grep -qF '(gzip-decoded from' <<<"$out" && grep -qF '{"user": "ada", "trips": 12, "units": "km"}' <<<"$out" ||
    td_fail "show 5: gzip body not decoded: $out"
out=$("$TC" show 8 "$T/plain.warc.zst")
grep -qF 'truncated   request body' <<<"$out" && grep -qF '(body cut short: 10 bytes recorded)' <<<"$out" ||
    td_fail "show 8: truncation: $out"
# by record id, and --raw gives the bytes as recorded
rid=$("$TC" ls --json "$T/plain.warc.zst" | sed -n 7p | python3 -c 'import json,sys; print(json.load(sys.stdin)["record_id"])')
"$TC" show "$rid" "$T/plain.warc.zst" | grep -qF 'request     GET /api/trips/7f3e9a1b2c4d' || td_fail "show by record id"
"$TC" show --raw 7 "$T/plain.warc.zst" >"$T/raw7"
printf 'GET /api/trips/7f3e9a1b2c4d HTTP/1.1\r\nHost: api.test\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found' |
    cmp - "$T/raw7" || td_fail "show --raw is not byte-exact"
set +e
"$TC" show 99 "$T/plain.warc.zst" 2>"$T/err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q 'no exchange 99' "$T/err" || td_fail "show 99: rc=$rc $(cat "$T/err")"

# ---- stats: counts per method + route and nearest-rank percentiles ----
"$TC" stats --json "$T/dict.warc.zst" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["exchanges"] == 8 and d["files"] == 1, d
routes = {(r["method"], r["route"]): r for r in d["routes"]}
g = routes[("GET", "/api/trips/{id}")]
assert g["count"] == 3 and g["status"]["2xx"] == 1 and g["status"]["4xx"] == 1 and g["status"]["failed"] == 1, g
assert g["latency_ms"] == {"p50": 4.0, "p90": 12.5, "p99": 12.5, "max": 12.5}, g
assert routes[("PUT", "/api/pois/{id}")]["status"]["5xx"] == 1
assert routes[("HEAD", "/api/trips/{id}")]["count"] == 1
assert d["routes"][0]["route"] == "/api/trips/{id}"  # busiest first
a = d["all"]
assert a["count"] == 8 and a["latency_ms"] == {"p50": 8.0, "p90": 50.0, "p99": 50.0, "max": 50.0}, a
' || td_fail "stats --json"
out=$("$TC" stats "$T/plain.warc.zst")
grep -qE '^GET +/api/trips/\{id\} +3 +1 +0 +1 +0 +1 +4\.000 +12\.500 +12\.500 +12\.500$' <<<"$out" || td_fail "stats text: $out"
grep -qE '^ALL +\* +8 ' <<<"$out" || td_fail "stats text ALL: $out"

# ---- cat: plain WARC, byte for byte; the same records whatever the compression ----
"$TC" cat "$T/plain.warc.zst" >"$T/plain.warc"
zstd -q -dc "$T/plain.warc.zst" | cmp - "$T/plain.warc" || td_fail "cat differs from zstd -d of a dictionary-less file"
"$TC" cat "$T/dict.warc.zst" | cmp - "$T/plain.warc" || td_fail "cat of the dictionary file differs"
if zstd -q -dc "$T/dict.warc.zst" >/dev/null 2>&1; then td_fail "zstd without the dictionary decoded a dictionary file?"; fi

# A third-party WARC reader finds every record, in order, in cat's output and in zstd -d's.
WARCIO=$TAPEDECK_NPM_DIR/node_modules/.bin/warcio
[ -x "$WARCIO" ] || td_fail "warcio not installed in $TAPEDECK_NPM_DIR (run scripts/install-deps)"
want_types='warcinfo request response request response request request response request response request response request response request response'
types=$("$WARCIO" index "$T/plain.warc" | python3 -c 'import json,sys; print(" ".join(json.loads(l)["warc-type"] for l in sys.stdin))')
expect_eq "warcio index of cat output" "$types" "$want_types"
zstd -q -dc "$T/plain.warc.zst" >"$T/zstd.warc"
n=$("$WARCIO" index "$T/zstd.warc" | grep -c '"warc-type"')
[ "$n" -eq 16 ] || td_fail "warcio found $n records in zstd -d output, want 16"

# ---- a folder: segments in time order, numbered across files ----
mkdir "$T/dir"
python3 - "$T/ex.json" "$T/a.json" "$T/b.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
json.dump({"exchanges": d["exchanges"][4:]}, open(sys.argv[3], "w"))  # later exchanges, in the later segment
json.dump({"exchanges": d["exchanges"][:4]}, open(sys.argv[2], "w"))
EOF
python3 "$ROOT/tests/lib/mkcapture.py" "$T/b.json" "$T/dir/p-20260101T000001Z-0002.warc.zst"
python3 "$ROOT/tests/lib/mkcapture.py" "$T/a.json" "$T/dir/p-20260101T000000Z-0001.warc.zst"
got=$("$TC" ls "$T/dir" | awk '{print $1, $3, $4}')
want=$(awk '{print $3, $4}' <<<"$want_ls" | awk '{print NR, $0}')
# the second file's times restart at the fixture's base, so compare ids, methods and targets only
expect_eq "ls of a folder" "$got" "$want"

# ---- help, version, bad arguments ----
grep -q 'Usage: tapedeck-capture COMMAND' <<<"$("$TC" --help)" || td_fail "--help"
"$TC" --version | grep -qE '^tapedeck-capture [0-9]+\.[0-9]+\.[0-9]+$' || td_fail "--version"
for sub in cat ls show stats verify; do
    grep -q "Usage: tapedeck-capture $sub" <<<"$("$TC" "$sub" --help)" || td_fail "$sub --help"
done
check_rc() { # want_rc, args...
    local want=$1 rc; shift
    set +e; "$TC" "$@" >/dev/null 2>"$T/err"; rc=$?; set -e
    [ $rc -eq "$want" ] || td_fail "tapedeck-capture $*: exit $rc, want $want ($(cat "$T/err"))"
    [ "$want" -eq 0 ] || [ -s "$T/err" ] || td_fail "tapedeck-capture $*: no message on stderr"
}
check_rc 2
check_rc 2 frobnicate
check_rc 2 ls --bogus "$T/plain.warc.zst"
check_rc 2 ls
check_rc 2 ls "$T/does-not-exist.warc.zst"
check_rc 2 show
check_rc 2 show notanid "$T/plain.warc.zst"
check_rc 2 stats "$T/empty-dir-that-is-missing"
check_rc 2 cat "$T/does-not-exist.warc.zst"
grep -q 'does-not-exist.warc.zst' "$T/err" || td_fail "the error does not name the file: $(cat "$T/err")"
echo "ok: ls, show, stats, cat, warcio, folders, help and exit codes"
