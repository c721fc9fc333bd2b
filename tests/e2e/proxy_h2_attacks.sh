#!/usr/bin/env bash
# e2e: the known HTTP/2 attacks, one raw-frame client per vector (h2_raw.py), each refused while the
# proxy keeps serving everyone else: rapid reset (CVE-2023-44487), CONTINUATION flood, HPACK bomb,
# stream-count exhaustion, streams stalled inside their bodies, SETTINGS and PING floods. A well-behaved
# client runs throughout and must see every answer; /metrics counts each refusal by cause.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
px_start_origin
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --h2c --idle-timeout 2s --capture-dir "$tmp/cap"
raw() { python3 "$PX_DIR/h2_raw.py" "$PROXY_PORT" "$@"; }

# the bystander: one request every 50 ms over h2 for the whole test, each must be answered
( ok=0 bad=0
  while [ ! -e "$tmp/stop" ]; do
    if [ "$(curl -sS --max-time 5 --http2-prior-knowledge "http://127.0.0.1:$PROXY_PORT/bystander" 2>/dev/null)" = "GET /bystander" ]; then
      ok=$((ok + 1)); else bad=$((bad + 1)); fi
    sleep 0.05
  done
  echo "$ok $bad" >"$tmp/bystander" ) &
by_pid=$!

declare -A cause=([rapid-reset]=rapid_reset [continuation]=continuation [hpack-bomb]=header_list
                  [streams]=streams [settings-flood]=control_flood [ping-flood]=control_flood)
for v in rapid-reset continuation hpack-bomb streams "stall 2" settings-flood ping-flood; do
  set -- $v
  before=${cause[$1]:+$(px_metric "tapedeck_proxy_h2_refused_total{cause=\"${cause[$1]}\"}")}
  out=$(raw "$@") || td_fail "$1: $out"
  echo "$1: $out"
  if [ -n "${cause[$1]:-}" ]; then
    after=$(px_metric "tapedeck_proxy_h2_refused_total{cause=\"${cause[$1]}\"}")
    ((after > before)) || td_fail "$1: tapedeck_proxy_h2_refused_total{cause=\"${cause[$1]}\"} did not grow ($before -> $after)"
  fi
  out=$(raw ok) || td_fail "after $1 a new connection is not served: $out"
done
touch "$tmp/stop"; wait "$by_pid"
read -r ok bad <"$tmp/bystander"
echo "bystander: $ok answered, $bad failed"
((bad == 0 && ok >= 10)) || td_fail "the well-behaved client was hurt: $ok answered, $bad failed"
# nothing the attackers sent reached the origin as a complete request
grep -E '/bomb|/cont' "$ORIGIN_LOG" && td_fail "an attack request reached the origin"
[ "$(px_metric tapedeck_proxy_connections_open)" -le 1 ] || td_fail "attack connections still open: $(px_metric tapedeck_proxy_connections_open)"
px_stop_proxy
echo "ok: h2 attacks refused"
