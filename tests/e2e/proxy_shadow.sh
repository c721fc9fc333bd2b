#!/usr/bin/env bash
# e2e: shadowing with diffs. tapedeck-proxy --mirror URL --mirror-record records each shadow's answer
# beside its exchange; /metrics counts per route what differed; `tapedeck-replay shadow` is the verdict.
# (1) a shadow that differs on one route: live mismatch counters on that route only, exit 1 naming the
#     field; the records read by warcio (request, response, shadow response naming the request), capture
#     verify/ls accept them, check replays the capture as if they were not there;
# (2) an identical shadow: exit 0;
# (3) a noisy production and shadow: exit 1 without a baseline, 0 with --mirror-baseline (noise);
# (4) a shadow 400 ms slow: the primary's latency stays where it is without mirroring (a generous
#     bound), and the report shows the shadow's latency beside the primary's;
# (5) a shadow that resets every connection: every client request still answered; errors counted live,
#     recorded on the request records, and reported as transport errors;
# (6) large answers, read in several pieces (and in place, past the first): each shadow record holds the
#     shadow's bytes exactly, a byte changed in the middle is a body mismatch live, --max-body cuts the
#     shadow record as it cuts the response.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
ORIGIN=$(dirname "$0")/shadow_origin.py
declare -A PORT
origin() { # name mode: starts one build of the test API on a port of its own
  PORT[$1]=$(td_free_port)
  td_spawn python3 "$ORIGIN" "${PORT[$1]}" "$2"
  td_wait_port "${PORT[$1]}"
}
url() { echo "http://127.0.0.1:${PORT[$1]}"; }
origin good good
origin good2 good
origin broken broken
origin noisy noisy
origin noisy2 noisy
origin noisy3 noisy
origin slow slow
origin reset reset

mx() { curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics"; }
settled() { # N: until every copy sent has an answer or a failure and N exchanges are written (the
  local i sent done_ rec # writer compares them just before: the live counters are final then)
  for i in $(seq 1 200); do
    sent=$(px_metric tapedeck_proxy_mirror_requests_total)
    done_=$(mx | awk '$1 ~ /^tapedeck_proxy_mirror_(responses|failed)_total/ { n += $2 } END { print n + 0 }')
    rec=$(px_metric tapedeck_proxy_capture_recorded_total)
    ((done_ >= sent && rec >= $1)) && return 0
    sleep 0.05
  done
  td_fail "$sent copies sent, $done_ answered or failed, $rec of $1 exchanges written after 10 s"
}
traffic() { # the request set: two routes, on one kept-alive connection per curl
  local p="http://127.0.0.1:$PROXY_PORT" u=()
  for i in 1 2 3 4 5; do u+=(-o /dev/null "$p/api/users/$i"); done
  for i in 1 2 3; do u+=(-o /dev/null "$p/api/items?page=$i"); done
  curl -fsS "${u[@]}" || td_fail "requests through the proxy failed"
}
shadowed() { # name primary shadow [proxy args...]: record traffic into $tmp/NAME, proxy stopped after
  local name=$1 prim=$2 shd=$3
  shift 3
  px_start_proxy --upstream "$(url "$prim")" --mirror "$(url "$shd")" --mirror-record --capture-dir "$tmp/$name" \
    --no-dictionary "$@"
  traffic
  settled 8
  mx >"$tmp/$name.metrics"
  px_stop_proxy
}
verdict() { # name want-exit [shadow args...]: runs tapedeck-replay shadow on capture NAME
  local name=$1 want=$2 rc=0
  shift 2
  "$BIN/tapedeck-replay" shadow "$tmp/$name" --report-json "$tmp/$name.json" "$@" >"$tmp/$name.out" 2>&1 || rc=$?
  ((rc == want)) || { cat "$tmp/$name.out" >&2; td_fail "shadow $name: exit $rc, want $want"; }
}
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
series() { awk -v k="$2" '$1 == k { print $2 }' "$tmp/$1.metrics"; }

# ---- flags ----
for args in "--mirror-record" "--mirror-baseline $(url good)"; do
  rc=0
  "$BIN/tapedeck-proxy" --listen "127.0.0.1:$(td_free_port)" --upstream "$(url good)" $args --capture-dir "$tmp/x" \
    2>"$tmp/cli.err" || rc=$?
  ((rc == 2)) && grep -q "need --mirror URL" "$tmp/cli.err" || td_fail "$args without --mirror: exit $rc, $(cat "$tmp/cli.err")"
done
rc=0
"$BIN/tapedeck-proxy" --listen "127.0.0.1:$(td_free_port)" --upstream "$(url good)" --mirror "$(url good2)" \
  --mirror-record 2>"$tmp/cli.err" || rc=$?
((rc == 2)) && grep -q "need --capture-dir" "$tmp/cli.err" || td_fail "--mirror-record without --capture-dir: exit $rc"

# ---- (1) a shadow that differs on one route ----
shadowed broken good broken
U='tapedeck_proxy_shadow_%s_total{method="GET",route="/api/users/{id}"}'
I='tapedeck_proxy_shadow_%s_total{method="GET",route="/api/items"}'
# shellcheck disable=SC2059
{
  [ "$(series broken "$(printf "$U" compared)")" = 5 ] || td_fail "live: users compared $(series broken "$(printf "$U" compared)"), want 5"
  [ "$(series broken "$(printf "$U" body_mismatch)")" = 5 ] || td_fail "live: users body mismatches, want 5"
  [ "$(series broken "$(printf "$U" status_mismatch)")" = 0 ] || td_fail "live: users status mismatches, want 0"
  [ "$(series broken "$(printf "$I" compared)")" = 3 ] || td_fail "live: items compared, want 3"
  [ "$(series broken "$(printf "$I" body_mismatch)")" = 0 ] || td_fail "live: items body mismatches, want 0"
}
verdict broken 1
grep -q 'FAIL' "$tmp/broken.out" || td_fail "no FAIL in the summary"
grep -q '\$\.plan: expected "pro", got 3' "$tmp/broken.out" || td_fail "the summary does not name \$.plan: $(cat "$tmp/broken.out")"
[ "$(jq_ "$tmp/broken.json" 'd["mode"], d["totals"]["requests"], d["totals"]["diffs"], d["totals"]["matched"]')" = \
  "('shadow', 8, 5, 3)" ] || td_fail "report: $(jq_ "$tmp/broken.json" 'd["mode"], d["totals"]')"
[ "$(jq_ "$tmp/broken.json" 'sorted(set(x["where"] for x in d["diffs"]))')" = "['\$.plan']" ] ||
  td_fail "report diffs: $(jq_ "$tmp/broken.json" 'd["diffs"]')"
"$BIN/tapedeck-capture" verify "$tmp/broken" >"$tmp/verify.out" || td_fail "verify: $(cat "$tmp/verify.out")"
[ "$("$BIN/tapedeck-capture" ls "$tmp/broken" | wc -l)" = 8 ] || td_fail "capture ls does not list 8 exchanges"
# A third-party reader: request, response, shadow response naming the request, for every exchange.
WARCIO=$TAPEDECK_NPM_DIR/node_modules/.bin/warcio
[ -x "$WARCIO" ] || td_fail "warcio not installed in $TAPEDECK_NPM_DIR (run scripts/install-deps)"
"$BIN/tapedeck-capture" cat "$tmp/broken" >"$tmp/broken.warc"
"$WARCIO" index "$tmp/broken.warc" --fields warc-type,warc-record-id,warc-concurrent-to,warc-tapedeck-role \
  >"$tmp/index.jsonl"
python3 - "$tmp/index.jsonl" <<'EOF' || td_fail "warcio index: $(cat "$tmp/index.jsonl")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert recs[0]["warc-type"] == "warcinfo", recs[0]
rest = recs[1:]
assert len(rest) == 8 * 3, len(rest)
for i in range(0, len(rest), 3):
    q, p, s = rest[i:i + 3]
    assert q["warc-type"] == "request" and p["warc-type"] == "response" and s["warc-type"] == "response", (q, p, s)
    assert "warc-tapedeck-role" not in p and s["warc-tapedeck-role"] == "shadow", (p, s)
    assert p["warc-concurrent-to"] == s["warc-concurrent-to"] == q["warc-record-id"], (q, p, s)
EOF
# check and load take the capture as they would without shadows: production's answers only.
"$BIN/tapedeck-replay" check "$tmp/broken" --target "$(url good)" --no-progress >"$tmp/check.out" ||
  td_fail "check against production itself: $(cat "$tmp/check.out")"
grep -q '8 exchanges replayed: 8 matched' "$tmp/check.out" || td_fail "check: $(cat "$tmp/check.out")"

# ---- (2) an identical shadow ----
shadowed same good good2
verdict same 0
[ "$(jq_ "$tmp/same.json" 'd["verdict"], d["totals"]["matched"]')" = "('pass', 8)" ] || td_fail "same: $(cat "$tmp/same.out")"

# ---- (3) noise: without a baseline every volatile field is a diff; with one it is set aside ----
shadowed noisy noisy noisy2
verdict noisy 1
grep -q '\$\.nonce\|\$\.ts' "$tmp/noisy.out" || td_fail "noisy: no volatile field named: $(cat "$tmp/noisy.out")"
shadowed noisyb noisy noisy2 --mirror-baseline "$(url noisy3)"
verdict noisyb 0
[ "$(jq_ "$tmp/noisyb.json" 'd["totals"]["noise"], d["totals"]["diffs"]')" = "(8, 0)" ] ||
  td_fail "noisy with baseline: $(cat "$tmp/noisyb.out")"
[ "$(series noisyb "$(printf "$U" noise)")" = 5 ] || td_fail "live: users noise, want 5"
[ "$(series noisyb "$(printf "$U" body_mismatch)")" = 0 ] || td_fail "live: users body mismatches with a baseline, want 0"
# a broken shadow is still caught beside a baseline
shadowed brokenb good broken --mirror-baseline "$(url good2)"
verdict brokenb 1

# ---- (4) a slow shadow never slows the primary ----
N=40
times() { # file proxy args...: the client's total time per request (ms), sorted, into file (no subshell:
  local out=$1 p=() # the proxy must stay this shell's child)
  shift
  px_start_proxy --upstream "$(url good)" "$@"
  for i in $(seq 1 $N); do p+=(-o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PROXY_PORT/api/users/$i"); done
  curl -fsS "${p[@]}" | awk '{ printf "%d\n", $1 * 1000 }' | sort -n >"$out"
}
times "$tmp/t-base" --capture-dir "$tmp/fast"
px_stop_proxy
times "$tmp/t-slow" --mirror "$(url slow)" --mirror-record --capture-dir "$tmp/slow"
settled $N
px_stop_proxy
base_p99=$(tail -n 1 "$tmp/t-base") slow_p99=$(tail -n 1 "$tmp/t-slow")
td_log "max client latency: ${base_p99} ms without mirroring, ${slow_p99} ms with a 400 ms shadow"
((slow_p99 < base_p99 + 200)) || td_fail "a 400 ms shadow slowed the primary: max ${slow_p99} ms vs ${base_p99} ms"
verdict slow 0
jq_ "$tmp/slow.json" 'd["latency_ms"]["p50"] >= 400 and d["primary_latency_ms"]["p50"] < 200' | grep -q True ||
  td_fail "slow: shadow vs primary latency in the report: $(jq_ "$tmp/slow.json" 'd["latency_ms"], d["primary_latency_ms"]')"
grep -q '^  primary ' "$tmp/slow.out" || td_fail "the summary has no primary latency row"

# ---- (5) a shadow that resets its connections ----
shadowed reset good reset
[ "$(series reset "$(printf "$U" errors)")" = 5 ] || td_fail "live: users shadow errors $(series reset "$(printf "$U" errors)"), want 5"
[ "$(grep -c '^tapedeck_proxy_requests_total{code="2xx"} 8$' "$tmp/reset.metrics")" = 1 ] || td_fail "the primary did not answer all 8"
px_dump "$tmp/reset" | grep -aq '^WARC-Tapedeck-Shadow-Error: ' || td_fail "no WARC-Tapedeck-Shadow-Error on the request records"
verdict reset 1
[ "$(jq_ "$tmp/reset.json" 'd["totals"]["errors"]')" = 8 ] || td_fail "reset: $(cat "$tmp/reset.out")"
"$BIN/tapedeck-capture" verify "$tmp/reset" >/dev/null || td_fail "verify of the reset capture"

# ---- (6) large answers ----
blobs() { # name primary shadow [proxy args...]: 4 large answers, 2 on one connection
  local name=$1 prim=$2 shd=$3 p
  shift 3
  px_start_proxy --upstream "$(url "$prim")" --mirror "$(url "$shd")" --mirror-record --capture-dir "$tmp/$name" \
    --no-dictionary "$@"
  p="http://127.0.0.1:$PROXY_PORT/api/blob"
  curl -fsS -o /dev/null "$p/300000" -o /dev/null "$p/40000" || td_fail "blob requests failed"
  curl -fsS -o /dev/null "$p/70000" -o /dev/null "$p/17000" || td_fail "blob requests failed"
  settled 4
  mx >"$tmp/$name.metrics"
  px_stop_proxy
  "$BIN/tapedeck-capture" cat "$tmp/$name" >"$tmp/$name.warc"
}
B='tapedeck_proxy_shadow_%s_total{method="GET",route="/api/blob/{id}"}'
blob_records() { # warc [cut]: "size whole|truncated" per shadow record; each body checked byte for byte
  python3 - "$1" "${2:-0}" <<'EOF'
import re, sys
data, cut = open(sys.argv[1], "rb").read(), int(sys.argv[2])
i = 0
while i < len(data):
    h = data.index(b"\r\n\r\n", i)
    head = data[i:h].decode()
    n = int(re.search(r"(?mi)^Content-Length: (\d+)", head).group(1))
    block = data[h + 4:h + 4 + n]
    i = h + 4 + n + 4
    if "WARC-Tapedeck-Role: shadow" not in head:
        continue
    size = int(re.search(r"(?m)^WARC-Target-URI: .*/(\d+)", head).group(1))
    body = block[block.index(b"\r\n\r\n") + 4:]
    want = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    if cut:
        want = want[:cut]
    assert body == want, (size, len(body), len(want))
    print(size, "truncated" if "WARC-Truncated: length" in head else "whole")
EOF
}
blobs blob good good2
# shellcheck disable=SC2059
{
  [ "$(series blob "$(printf "$B" compared)")" = 4 ] || td_fail "live: blobs compared $(series blob "$(printf "$B" compared)"), want 4"
  [ "$(series blob "$(printf "$B" body_mismatch)")" = 0 ] || td_fail "live: blobs body mismatches, want 0"
}
[ "$(blob_records "$tmp/blob.warc" | sort -n | tr '\n' ' ')" = "17000 whole 40000 whole 70000 whole 300000 whole " ] ||
  td_fail "blob shadow records: $(blob_records "$tmp/blob.warc" | tr '\n' ' ')"
blobs blobbroken good broken
# shellcheck disable=SC2059
[ "$(series blobbroken "$(printf "$B" body_mismatch)")" = 4 ] ||
  td_fail "live: changed blobs body mismatches $(series blobbroken "$(printf "$B" body_mismatch)"), want 4"
blobs blobcut good good2 --max-body 30000
[ "$(blob_records "$tmp/blobcut.warc" 30000 | sort -n | tr '\n' ' ')" = "17000 whole 40000 truncated 70000 truncated 300000 truncated " ] ||
  td_fail "cut blob shadow records: $(blob_records "$tmp/blobcut.warc" 30000 | tr '\n' ' ')"
echo "ok"
