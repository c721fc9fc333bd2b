#!/usr/bin/env bash
# Order and connections (issue 4, point 2): the exchanges of one recorded connection replay in order on
# one connection of their own; recorded connections run in parallel up to --concurrency; --sequential
# replays everything in global recorded order on one connection. Checked from the origin's side: it
# logs, per TCP connection it accepted, the requests that came over it. Four recorded connections of
# five exchanges each, interleaved in the capture, must arrive as exactly four connections, each
# carrying one recorded connection's requests in recorded order - with libcurl (the default), the
# native HTTP/1.1 path, --baseline (on both sides) and --learn-noise (the second copy on the same
# connection). Writes (here POSTs) on different recorded connections keep their recorded order - a later
# one leaves only when the earlier has its answer - while reads on other connections do not wait.
source "$(dirname "$0")/../lib/common.sh"
td_tmpdir >/dev/null
T=$(td_tmpdir)

cat >"$T/origin.py" <<'PY'
import http.server, itertools, json, sys, threading, time
log, lock, serial = open(sys.argv[2], "a", buffering=1), threading.Lock(), itertools.count(1)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        super().setup()
        self.conn = next(serial)  # one handler per accepted connection
    def log_message(self, *a):
        pass
    def do_GET(self):
        with lock:
            log.write("%d %s\n" % (self.conn, self.path))
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            log.write("%d %s\n" % (self.conn, self.path))
        if "slow" in self.path:
            time.sleep(0.3)
        with lock:
            log.write("%d done %s\n" % (self.conn, self.path))
        self.do_GET_reply()
    def do_GET_reply(self):
        body = b"{}"
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
start_origin() { # log-file -> ORIGIN_PORT
    ORIGIN_PORT=$(td_free_port)
    : >"$1"
    td_spawn python3 "$T/origin.py" "$ORIGIN_PORT" "$1"
    td_wait_port "$ORIGIN_PORT"
}

# Four client connections, five requests each, interleaved round-robin as real clients would be.
python3 - >"$T/script.json" <<'PY'
import json
print(json.dumps([{"conn": c, "method": "GET", "path": "/c%d/r%d" % (c, r)} for r in range(5) for c in range(1, 5)]))
PY
start_origin "$T/rec.log"
python3 "$ROOT/tests/lib/mkcapture_check.py" --target "http://127.0.0.1:$ORIGIN_PORT" --out "$T/cap.warc.zst" \
    "$T/script.json"

# log-file expectation: "pinned [copies]" (each recorded connection on its own connection, each request
# `copies` times in a row) or "global" (one connection, the capture's order)
origin_saw() {
    python3 - "$@" <<'PY'
import collections, sys
log, mode = sys.argv[1], sys.argv[2]
conns = collections.OrderedDict()
for line in open(log):
    c, path = line.split()
    conns.setdefault(c, []).append(path)
want_rec = {c: ["/c%d/r%d" % (c, r) for r in range(5)] for c in range(1, 5)}
if mode == "global":
    want = [["/c%d/r%d" % (c, r) for r in range(5) for c in range(1, 5)]]
    ok = list(conns.values()) == want
else:
    copies = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    want = sorted([p for p in seq for _ in range(copies)] for seq in want_rec.values())
    ok = sorted(conns.values()) == want
if not ok:
    print("origin saw %d connections:" % len(conns), file=sys.stderr)
    for c, seq in conns.items():
        print("  connection %s: %s" % (c, " ".join(seq)), file=sys.stderr)
    sys.exit(1)
PY
}
check() { # name args... (must pass)
    local name=$1 rc=0
    shift
    "$BIN/tapedeck-replay" check "$T/cap.warc.zst" --no-progress "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
    [ "$rc" = 0 ] || { cat "$T/$name.out" "$T/$name.err" >&2; td_fail "$name: exit $rc"; }
}

start_origin "$T/curl.log"
check curl --target "http://127.0.0.1:$ORIGIN_PORT" --concurrency 2 --engine curl
origin_saw "$T/curl.log" pinned || td_fail "libcurl: recorded connections not replayed one per connection"

start_origin "$T/native.log"
check native --target "http://127.0.0.1:$ORIGIN_PORT" --concurrency 2 --engine native
origin_saw "$T/native.log" pinned || td_fail "native engine: recorded connections not replayed one per connection"

# More parallel slots than recorded connections changes nothing.
start_origin "$T/wide.log"
check wide --target "http://127.0.0.1:$ORIGIN_PORT" --concurrency 16
origin_saw "$T/wide.log" pinned || td_fail "--concurrency 16: not one connection per recorded connection"

start_origin "$T/cand.log"
cand=$ORIGIN_PORT
start_origin "$T/base.log"
check baseline --target "http://127.0.0.1:$cand" --baseline "http://127.0.0.1:$ORIGIN_PORT" --concurrency 3
origin_saw "$T/cand.log" pinned || td_fail "--baseline: the candidate's connections"
origin_saw "$T/base.log" pinned || td_fail "--baseline: the baseline's connections"

start_origin "$T/learn.log"
check learn --target "http://127.0.0.1:$ORIGIN_PORT" --learn-noise --concurrency 2
origin_saw "$T/learn.log" pinned 2 || td_fail "--learn-noise: the second copy left the recorded connection"

start_origin "$T/seq.log"
check seq --target "http://127.0.0.1:$ORIGIN_PORT" --sequential
origin_saw "$T/seq.log" global || td_fail "--sequential: not one connection in global recorded order"

# check reads the capture as it replays it: with a read window of one or two exchanges (the hidden
# --read-window; 4096 by default) every capture is a long one, and nothing above may change.
for w in 1 2; do
  start_origin "$T/win$w.log"
  check "win$w" --target "http://127.0.0.1:$ORIGIN_PORT" --concurrency 2 --read-window "$w"
  origin_saw "$T/win$w.log" pinned || td_fail "--read-window $w: recorded connections not pinned, in order"
  start_origin "$T/winl$w.log"
  check "winl$w" --target "http://127.0.0.1:$ORIGIN_PORT" --learn-noise --read-window "$w"
  origin_saw "$T/winl$w.log" pinned 2 || td_fail "--read-window $w --learn-noise"
  start_origin "$T/wins$w.log"
  check "wins$w" --target "http://127.0.0.1:$ORIGIN_PORT" --sequential --read-window "$w"
  origin_saw "$T/wins$w.log" global || td_fail "--read-window $w --sequential"
done
# Writes in recorded order across connections: a slow POST on connection 1, then a POST on connection 2
# and a GET on connection 3 (recorded in that order).
cat >"$T/writes.json" <<'JSON'
[{"conn": 1, "method": "POST", "path": "/w/1-slow", "body": "{}", "headers": {"Content-Type": "application/json"}},
 {"conn": 2, "method": "POST", "path": "/w/2", "body": "{}", "headers": {"Content-Type": "application/json"}},
 {"conn": 3, "method": "GET", "path": "/r/3"}]
JSON
start_origin "$T/wrec.log"
python3 "$ROOT/tests/lib/mkcapture_check.py" --target "http://127.0.0.1:$ORIGIN_PORT" --out "$T/writes.warc.zst" \
    "$T/writes.json"
for win in 4096 1; do
start_origin "$T/writes.log"
rc=0
"$BIN/tapedeck-replay" check "$T/writes.warc.zst" --no-progress --target "http://127.0.0.1:$ORIGIN_PORT" \
    --concurrency 4 --read-window "$win" >"$T/writes.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$T/writes.out" >&2; td_fail "writes: exit $rc"; }
[ "$win" = 1 ] && continue # the window holds one exchange: the read cannot be read before the writes end
python3 - "$T/writes.log" <<'PY' || td_fail "writes: not replayed in recorded order (or a read waited for them)"
import sys
events = [line.split(None, 1)[1].strip() for line in open(sys.argv[1])]
print("origin saw: " + ", ".join(events), file=sys.stderr)
at = {e: i for i, e in enumerate(events)}
ok = at["done /w/1-slow"] < at["/w/2"] and at["/r/3"] < at["done /w/1-slow"]
sys.exit(0 if ok else 1)
PY
done

echo "ok: 4 recorded connections -> 4 connections, in order (libcurl, native, baseline, learn-noise); sequential"
