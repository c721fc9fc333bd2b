#!/usr/bin/env bash
# e2e: the two HTTP/1.1 clients give the same answers. One capture, replayed by `check` with
# --engine native (the default) and with --engine curl against a raw-socket origin (engines_origin.py)
# that answers every awkward way HTTP/1.1 allows: chunk extensions and trailers, 1xx before the final
# response, 204/304 with a Content-Length, HEAD, bodies delimited by the close, Connection: close in the
# middle of a connection, a reset in the middle of a body, a slow drip, gzip and br, 10 MiB bodies, a
# server that closes an idle connection, a hang (timeout), garbage. The two JSON reports must be the
# same — verdict, totals, every endpoint's counters, every diff (a transport error by its kind: the
# clients word their messages their own way) — and `load` must count the same statuses and errors.
source "$(dirname "$0")/../lib/common.sh"
td_tmpdir >/dev/null
T=$(td_tmpdir)
PORT=$(td_free_port)
ORIGIN="$ROOT/tests/e2e/engines_origin.py"
td_spawn python3 "$ORIGIN" serve "$PORT"
td_wait_port "$PORT"
python3 "$ORIGIN" capture "$T/script.json" "$PORT"
python3 "$ROOT/tests/lib/mkcapture.py" "$T/script.json" "$T/cap.warc.zst"

for e in native curl; do
  rc=0
  "$BIN/tapedeck-replay" check "$T/cap.warc.zst" --target "http://127.0.0.1:$PORT" --engine "$e" \
    --timeout 1s --concurrency 4 --no-progress --report-json "$T/check-$e.json" >"$T/check-$e.out" 2>&1 || rc=$?
  echo "$rc" >"$T/check-$e.rc"
  [ "$rc" = 1 ] || { cat "$T/check-$e.out" >&2; td_fail "check --engine $e: exit $rc, expected 1 (diffs)"; }
  rc=0
  "$BIN/tapedeck-replay" load "$T/cap.warc.zst" --target "http://127.0.0.1:$PORT" --engine "$e" \
    --rate 40/s --connections 4 --timeout 1s --no-progress --quiet --report-json "$T/load-$e.json" \
    >"$T/load-$e.out" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$T/load-$e.out" >&2; td_fail "load --engine $e: exit $rc"; }
done

python3 - "$T" <<'PY' || td_fail "the native and libcurl engines disagree"
import json, sys
T = sys.argv[1]
def kind(msg):
    return "timeout" if "timed out" in msg.lower() else "other"
def view(r):
    diffs = []
    for d in r["diffs"]:
        d = dict(d)
        if d.get("where") == "transport":
            d["actual"] = kind(d["actual"])
        diffs.append(d)
    eps = sorted((e["method"], e["route"], e.get("requests"), e.get("matched"), e.get("diffs"), e.get("errors"),
                  e.get("noise")) for e in r["endpoints"])
    return {"verdict": r["verdict"], "totals": r["totals"], "endpoints": eps,
            "diffs": sorted(diffs, key=lambda d: (int(d["id"]), d["where"]))}
n, c = (view(json.load(open("%s/check-%s.json" % (T, e)))) for e in ("native", "curl"))
for k in n:
    if n[k] != c[k]:
        print("check %s differ:\n native %s\n curl   %s" % (k, json.dumps(n[k]), json.dumps(c[k])), file=sys.stderr)
assert n == c
t = n["totals"]
# what the origin does, as a user reads it: /reset, /hang, /garbage fail; /changed differs; /te-gzip's
# recording cannot be decoded (a transfer coding tapedeck does not undo); the rest match
assert t["requests"] == 33 and t["errors"] == 4 and t["diffs"] == 1 and t["matched"] == 28, t
assert any(d["uri"] == "/te-gzip" and d["where"] == "recorded response" for d in n["diffs"]), n["diffs"]
kinds = sorted(d["actual"] for d in n["diffs"] if d["where"] == "transport")
assert kinds == ["other", "other", "timeout"], kinds
assert any(d["uri"] == "/changed" and d["where"] != "transport" for d in n["diffs"]), n["diffs"]

def lview(r):
    eps = sorted((e["method"], e["route"], e.get("requests"), e.get("errors"), json.dumps(e.get("status"), sort_keys=True))
                 for e in r["endpoints"])
    t = r["totals"]
    return {"requests": t["requests"], "errors": t["errors"], "matched": t["matched"],
            "status": json.dumps(r.get("status"), sort_keys=True), "endpoints": eps}
ln, lc = (lview(json.load(open("%s/load-%s.json" % (T, e)))) for e in ("native", "curl"))
for k in ln:
    if ln[k] != lc[k]:
        print("load %s differ:\n native %s\n curl   %s" % (k, ln[k], lc[k]), file=sys.stderr)
assert ln == lc
assert ln["requests"] == 33 and ln["errors"] == 3, ln
print("# both engines: check %s, load %s" % (json.dumps(t), ln), file=sys.stderr)
PY
echo ok
