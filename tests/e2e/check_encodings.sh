#!/usr/bin/env bash
# Content codings beyond nginx's gzip: a small node server answers with br, deflate (zlib-wrapped or
# raw), stacked "gzip, br", or identity. A capture recorded with one coding compares equal against the
# same documents sent with every other coding (both sides are decoded by check), and a changed document
# is still named by its JSON path through the decoding.
source "$(dirname "$0")/../lib/common.sh"
td_tmpdir >/dev/null # sets TD_TMP in this shell, so helpers and cleanup share it
T=$(td_tmpdir)
cat >"$T/server.js" <<'JS'
'use strict';
const http = require('http'), zlib = require('zlib');
const [port, coding, change] = process.argv.slice(2);
const doc = (n) => ({ id: n, name: `doc ${n}`, values: Array.from({ length: 50 }, (_, i) => i * n),
                      nested: { ok: true, ratio: n / 7, tag: change === 'changed' && n === 3 ? 'other' : 'same' } });
const enc = {
  br: (b) => zlib.brotliCompressSync(b), deflate: (b) => zlib.deflateSync(b), rawdeflate: (b) => zlib.deflateRawSync(b),
  'gzip-br': (b) => zlib.brotliCompressSync(zlib.gzipSync(b)), identity: (b) => b,
};
const header = { br: 'br', deflate: 'deflate', rawdeflate: 'deflate', 'gzip-br': 'gzip, br', identity: null };
http.createServer((req, res) => {
  const n = Number((req.url.match(/\/doc\/(\d+)/) || [])[1] || 0);
  const body = enc[coding](Buffer.from(JSON.stringify(doc(n))));
  const h = { 'Content-Type': 'application/json', 'Content-Length': body.length };
  if (header[coding]) h['Content-Encoding'] = header[coding];
  res.writeHead(200, h);
  res.end(body);
}).listen(Number(port), '127.0.0.1');
JS
start() { # coding [changed]: a server on a free port (SRV_PORT)
    local p
    p=$(td_free_port)
    td_spawn node "$T/server.js" "$p" "$@"
    td_wait_port "$p"
    SRV_PORT=$p
}
python3 -c 'import json; print(json.dumps([{"conn": 1 + i % 2, "path": f"/doc/{i}",
  "headers": {"Accept": "application/json", "Accept-Encoding": "br, gzip, deflate"}} for i in range(1, 9)]))' \
    >"$T/script.json"
start br
python3 "$ROOT/tests/lib/mkcapture_check.py" --target "http://127.0.0.1:$SRV_PORT" --out "$T/rec.warc.zst" \
    "$T/script.json"
zstdcat "$T/rec.warc.zst" >"$T/rec.warc"
[ "$(grep -ac '^Content-Encoding: br' "$T/rec.warc")" = 8 ] || td_fail "capture: not 8 br-encoded responses"

check() { # expected-exit name args...
    local want=$1 name=$2 rc=0
    shift 2
    "$BIN/tapedeck-replay" check "$T/rec.warc.zst" --no-progress "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
    [ "$rc" = "$want" ] || { cat "$T/$name.out" "$T/$name.err" >&2; td_fail "$name: exit $rc, wanted $want"; }
}
for coding in br deflate rawdeflate gzip-br identity; do
    start "$coding"
    check 0 "$coding" --target "http://127.0.0.1:$SRV_PORT"
done
start identity changed
check 1 changed --target "http://127.0.0.1:$SRV_PORT"
grep -q '\$.nested.tag: expected "same", got "other"' "$T/changed.out" || td_fail "changed: path not named"
start deflate changed
check 1 changed-deflate --target "http://127.0.0.1:$SRV_PORT"
grep -q '\$.nested.tag: expected "same", got "other"' "$T/changed-deflate.out" || td_fail "changed-deflate: path not named"
echo "check_encodings: ok"
