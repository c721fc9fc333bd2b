#!/usr/bin/env bash
# e2e: captures written by other tools, read by every command. GNU Wget --warc-file (.warc.gz, WARC/1.0,
# <uri> targets, sha1 base32 digests, metadata and resource records) fetching a local nginx; warcio.js
# writing a .warc.gz through its own serializer (response before request, base32 and base16 sha256
# digests); Chromium through playwright-core's recordHar (a HAR to import). Each is listed, verified,
# shown, and replayed by `tapedeck-replay check` against the same nginx, which must pass.
source "$(dirname "$0")/../lib/common.sh"
td_tmpdir >/dev/null
T=$(td_tmpdir)
TC=$BIN/tapedeck-capture
TR=$BIN/tapedeck-replay
NPM=${TAPEDECK_NPM_DIR:-$ROOT/build/npm}
export TAPEDECK_NPM_DIR=$NPM
mkdir -p "$T/site/img"
chmod 755 "$T" "$T/site" "$T/site/img"
cat >"$T/site/index.html" <<'HTML'
<!doctype html><html><head><title>loading</title></head><body>
<a href="notes.txt">notes</a> <a href="data.json">data</a> <img src="img/dot.png">
<script>fetch("data.json").then(r => r.json()).then(d => { document.title = d.ok ? "loaded" : "bad"; });</script>
</body></html>
HTML
printf '{"ok":true,"items":[1,2,3]}' >"$T/site/data.json"
seq 1 300 | sed 's/^/line /' >"$T/site/notes.txt"
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' >"$T/site/img/dot.png"
chmod 644 "$T/site/index.html" "$T/site/data.json" "$T/site/notes.txt" "$T/site/img/dot.png"
port=$(td_free_port)
td_nginx "$port" "$T/site" 'types { text/html html; application/json json; text/plain txt; image/png png; }
  location = /favicon.ico { return 204; }'
URL=http://127.0.0.1:$port

run() { # want_rc, args...
    local want=$1 rc; shift
    set +e; "$@" >"$T/out" 2>&1; rc=$?; set -e
    [ $rc -eq "$want" ] || td_fail "$*: exit $rc, want $want
$(cat "$T/out")"
}
has() { grep -qF -- "$1" "$T/out" || td_fail "output lacks '$1':
$(cat "$T/out")"; }

# ---- GNU Wget ----
command -v wget >/dev/null || td_fail "wget is not installed (scripts/install-deps)"
(cd "$T" && wget -q -r -l 1 --no-host-directories -P "$T/mirror" --warc-file="$T/wget" "$URL/") || true
[ -s "$T/wget.warc.gz" ] || td_fail "wget wrote no $T/wget.warc.gz"
run 0 "$TC" ls "$T/wget.warc.gz"
has "GET / 200"
has "GET /notes.txt 200"
has "GET /data.json 200"
has "GET /img/dot.png 200"
grep -q '<' "$T/out" && td_fail "ls shows a <uri> target: $(cat "$T/out")"
run 0 "$TC" ls "$T/wget.warc.gz" # the wget log and manifest are said to be skipped
has "skipped records that are not exchanges: 1 metadata, 2 resource"
run 0 "$TC" verify "$T/wget.warc.gz"
has "wget.warc.gz: ok:"
has "gzip"
run 0 "$TC" export --curl "$T/wget.warc.gz"
grep -qF " $URL/data.json" "$T/out" || td_fail "export --curl: no plain URL for data.json: $(cat "$T/out")"
run 0 "$TC" cat "$T/wget.warc.gz"
[ "$(grep -c '^WARC-Type: ' "$T/out")" -eq "$(zcat "$T/wget.warc.gz" | grep -ac '^WARC-Type: ')" ] ||
    td_fail "cat does not write every record of the wget file"
run 0 "$TR" check "$T/wget.warc.gz" --target "$URL"
has ": PASS"
# redact and load read it through the same reader
run 0 "$TC" redact -q -o "$T/wget-redacted.warc.zst" --redact-header User-Agent "$T/wget.warc.gz"
run 0 "$TC" ls "$T/wget-redacted.warc.zst"
has "GET /data.json 200"
run 0 "$TC" show --raw 1 "$T/wget-redacted.warc.zst"
grep -q "Wget/" "$T/out" && td_fail "redact left the User-Agent: $(head -5 "$T/out")"
run 0 "$TR" load "$T/wget.warc.gz" --target "$URL" --rate 50/s --duration 1s
has "requests"
# a folder of .warc.gz files is a capture too
mkdir -p "$T/dir" && cp "$T/wget.warc.gz" "$T/dir/"
run 0 "$TC" stats "$T/dir"

# ---- warcio.js ----
for enc in base32 base16; do
    node "$ROOT/tests/e2e/writers/warcio_write.mjs" "$T/warcio-$enc.warc.gz" "$URL" $enc \
        "/data.json=$T/site/data.json=application/json" "/notes.txt=$T/site/notes.txt=text/plain" ||
        td_fail "warcio.js could not write its file"
    run 0 "$TC" verify "$T/warcio-$enc.warc.gz"
    has "ok: 5 records (2 exchanges); gzip"
    run 0 "$TC" ls "$T/warcio-$enc.warc.gz"
    has "1 "
    has "GET /data.json 200"
    has "GET /notes.txt 200"
    run 0 "$TR" check "$T/warcio-$enc.warc.gz" --target "$URL"
    has ": PASS"
done
# a changed body: the digest no longer matches, whichever encoding the writer used
python3 - "$T/warcio-base16.warc.gz" "$T/tampered.warc.gz" <<'PY'
import gzip, sys
data = gzip.open(sys.argv[1]).read().replace(b'"items":[1,2,3]', b'"items":[1,2,4]')
open(sys.argv[2], "wb").write(gzip.compress(data))
PY
run 1 "$TC" verify "$T/tampered.warc.gz"
has "WARC-Payload-Digest does not match the response body"

# ---- Chromium (playwright-core recordHar) ----
[ -d "$NPM/node_modules/playwright-core" ] || td_fail "playwright-core not installed in $NPM (scripts/install-deps)"
timeout 90 node "$ROOT/tests/e2e/writers/chromium_har.mjs" "$URL/index.html" "$T/chromium.har" ||
    td_fail "chromium did not browse the site"
run 0 "$TC" import -o "$T/chromium.warc.zst" "$T/chromium.har"
run 0 "$TC" ls "$T/chromium.warc.zst"
has "GET /index.html 200"
has "GET /data.json 200"
has "GET /img/dot.png 200"
run 0 "$TC" verify "$T/chromium.warc.zst"
run 0 "$TR" check "$T/chromium.warc.zst" --target "$URL"
has ": PASS"
echo "ok: wget, warcio.js and chromium captures are read, verified and replayed"
