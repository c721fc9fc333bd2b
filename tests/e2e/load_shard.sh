#!/usr/bin/env bash
# e2e: --shard K/N. Three shards run side by side against nginx, each replaying its slice of the recorded
# connections at its share of the rate; `tapedeck-replay report` merges their reports. The merged report
# covers exactly the requests of one unsharded run, gate for gate gives the same verdicts, and its
# percentiles are those of the combined histogram (recomputed here independently from the shards'
# buckets); merging in another order gives the same histogram. The shards start together on one
# --start-at instant (Unix seconds; an RFC 3339 one, already past, is checked on its own), and each
# report says when its schedule began and how late its first send was.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/load_lib.bash"
td_tmpdir >/dev/null # sets TD_TMP in this shell, so helpers and cleanup share it
T=$(td_tmpdir)
PORT=$(td_free_port)
mkdir -p "$T/www"
td_nginx "$PORT" "$T/www" "location / { return 200 '{\"ok\":true}'; }"
# 600 requests on 60 recorded connections, two routes
mk_capture "$T/cap.warc.zst" 600 1000 60 "('/api/trips/%d' if i % 3 else '/api/drivers/%d') % i"
OPTS=(--target "http://127.0.0.1:$PORT" --rate 200/s --duration 3s --slo 'p99<1s' --slo 'p50<1us'
      --slo 'GET /api/drivers/{id}: max<2s' --slo 'error_rate<0.1%')

set +e
"$REPLAY" load "$T/cap.warc.zst" "${OPTS[@]}" --report-json "$T/full.json" --quiet; full_rc=$?
pids=()
AT=$(( $(date +%s) + 3 ))
for k in 0 1 2; do
  "$REPLAY" load "$T/cap.warc.zst" "${OPTS[@]}" --shard "$k/3" --start-at "$AT" --report-json "$T/s$k.json" --quiet &
  pids+=($!)
done
shard_rc=()
for p in "${pids[@]}"; do wait "$p"; shard_rc+=($?); done
"$REPLAY" report "$T/s0.json" "$T/s1.json" "$T/s2.json" --report-json "$T/merged.json" --html "$T/merged.html" >"$T/merged.out"
merged_rc=$?
"$REPLAY" report "$T/s2.json" "$T/s0.json" "$T/s1.json" --report-json "$T/merged2.json" --quiet
# A start already 2 s past (RFC 3339 with an offset): what fell due meanwhile goes out late, and says so.
PAST=$(date -d "@$(( $(date +%s) - 2 ))" +%Y-%m-%dT%H:%M:%S+00:00)
"$REPLAY" load "$T/cap.warc.zst" --target "http://127.0.0.1:$PORT" --rate 200/s --duration 3s \
  --start-at "$PAST" --report-json "$T/past.json" --quiet; past_rc=$?
"$REPLAY" load "$T/cap.warc.zst" --target "http://127.0.0.1:$PORT" --start-at 'next tuesday' \
  --quiet 2>"$T/bad.err"; bad_rc=$?
set -e
[ "$past_rc" -eq 0 ] || td_fail "--start-at in the past: exit $past_rc"
[ "$bad_rc" -eq 2 ] && grep -q -- '--start-at' "$T/bad.err" || td_fail "--start-at 'next tuesday': exit $bad_rc, $(cat "$T/bad.err")"
python3 - "$T" "$AT" "$PAST" <<'PY' || td_fail "--start-at: the reports do not say when the schedule began"
import json, sys, datetime
T, at, past = sys.argv[1], int(sys.argv[2]), sys.argv[3]
iso = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
shards = [json.load(open("%s/s%d.json" % (T, k))) for k in range(3)]
for s in shards:
    st = s["start"]
    assert st["pinned"] is True and abs(iso(st["at"]) - at) < 1e-6, st
    # never early; how late is the machine's business, not a test's
    assert st["first_send_late_ms"] >= 0, st
merged = json.load(open("%s/merged.json" % T))
assert abs(iso(merged["start"]["at"]) - at) < 1e-6, merged["start"]
assert merged["start"]["first_send_late_ms"] == max(s["start"]["first_send_late_ms"] for s in shards)
p = json.load(open("%s/past.json" % T))["start"]
assert abs(iso(p["at"]) - iso(past)) < 1e-6, p
# the first request was due at the instant 2 s ago: it went out at least ~2 s late
assert p["first_send_late_ms"] >= 1500, p
full = json.load(open("%s/full.json" % T))["start"]
assert full["pinned"] is False and full["first_send_late_ms"] >= 0, full
print("# first sends late by %s ms (shards), %.0f ms (start 2 s past)" % (
    [round(s["start"]["first_send_late_ms"], 3) for s in shards], p["first_send_late_ms"]), file=sys.stderr)
PY
cat "$T/merged.out"
[ "$full_rc" -eq 1 ] || td_fail "the unsharded run exited $full_rc, expected 1 (p50<1us cannot hold)"
[ "$merged_rc" -eq "$full_rc" ] || td_fail "merged verdict exit $merged_rc, one run $full_rc"
td_log "shards exited ${shard_rc[*]}; one run $full_rc; merged $merged_rc"

python3 - "$T" <<'PY' || td_fail "merged shards differ from one run"
import json, math, sys
T = sys.argv[1]
load = lambda n: json.load(open("%s/%s.json" % (T, n)))
full, merged, merged2 = load("full"), load("merged"), load("merged2")
shards = [load("s%d" % k) for k in range(3)]

# the same requests: every scheduled request in exactly one shard
n = [s["totals"]["requests"] for s in shards]
print("# shard requests %s, one run %d, merged %d" % (n, full["totals"]["requests"], merged["totals"]["requests"]), file=sys.stderr)
assert all(x > 0 for x in n)
assert sum(n) == full["totals"]["requests"] == merged["totals"]["requests"] == 600
ep = lambda r: {(e["method"], e["route"]): e["requests"] for e in r["endpoints"]}
assert ep(full) == ep(merged), (ep(full), ep(merged))
# each shard ran at about its share of the rate; together at the rate of one run
assert abs(merged["rate"]["scheduled_rps"] - full["rate"]["scheduled_rps"]) / full["rate"]["scheduled_rps"] < 0.05
# gate for gate, the same verdicts
g = lambda r: [(x["expr"], x["pass"]) for x in r["gates"]]
assert g(full) == g(merged), (g(full), g(merged))
assert merged["verdict"] == full["verdict"] == "fail"

# percentiles of the merged report = those of the combined histogram, recomputed from the shards' buckets
counts = {}
for s in shards:
    for v, c in s["histogram"]["latency"]["buckets"]:
        counts[v] = counts.get(v, 0) + c
total = sum(counts.values())
hmax = max(s["histogram"]["latency"]["max"] for s in shards)
def width(lo):
    return 1 if lo < 2048 else 1 << (lo.bit_length() - 1 - 10)
def pct(p):
    rank = max(1, math.ceil(p / 100 * total * (1 - 1e-12)))
    seen = 0
    for v in sorted(counts):
        seen += counts[v]
        if seen >= rank:
            return min(v + width(v) - 1, hmax)
for key, p in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
    assert abs(merged["latency_ms"][key] - pct(p) / 1000) < 1e-9, (key, merged["latency_ms"][key], pct(p))
assert merged["histogram"]["latency"] == merged2["histogram"]["latency"]
assert merged["histogram"]["latency"]["count"] == total == merged["totals"]["matched"]
PY
grep -q 'merged from 3 reports' "$T/merged.html" || td_fail "merged HTML does not say it is merged"
echo ok
