#!/usr/bin/env bash
# e2e: the schedule's timer does not cost a wake-up per request. At 20 000 req/s for 1 s (gaps of 50 µs)
# the replayer wakes at most once per 100 µs and re-arms its timer at most once per wake-up, so it calls
# timerfd_settime at most ~10 000 times, however fast or slow the machine is (a slow one batches more).
# The libevent precise timer it replaced re-armed on every turn of the loop: about once per request.
# Also: every scheduled request is sent, and the lag stays reported. Counted with perf (or strace).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/load_lib.bash"
td_tmpdir >/dev/null
T=$(td_tmpdir)
PORT=$(td_free_port)
mkdir -p "$T/www"
td_nginx "$PORT" "$T/www" "access_log off; location / { return 200 '{\"ok\":true}'; }"
mk_capture "$T/cap.warc.zst" 200 100 16
RATE=20000 WANT=20000
if [ -n "$ASAN" ]; then RATE=4000 WANT=4000; fi
cmd=("$REPLAY" load "$T/cap.warc.zst" --target "http://127.0.0.1:$PORT" --rate "$RATE/s" --duration 1s
  --connections 16 --no-progress --quiet --report-json "$T/r.json")

if perf stat -x, -e syscalls:sys_enter_timerfd_settime -o "$T/probe" true >/dev/null 2>&1; then
  perf stat -x, -e syscalls:sys_enter_timerfd_settime -o "$T/count" -- "${cmd[@]}" >"$T/out" 2>&1 ||
    { cat "$T/out"; td_fail "load failed"; }
  n=$(awk -F, '/timerfd_settime/ {print $1}' "$T/count")
elif command -v strace >/dev/null; then
  strace -f -qq -c -e trace=timerfd_settime -o "$T/count" "${cmd[@]}" >"$T/out" 2>&1 ||
    { cat "$T/out"; td_fail "load failed"; }
  n=$(awk '/timerfd_settime/ {print $4}' "$T/count")
else
  echo "load_wakeups: SKIP: neither perf nor strace"; exit 0
fi
[ -n "$n" ] || td_fail "no timerfd_settime count"
sent=$(json_get "$T/r.json" "r['rate']['sent']")
td_log "timerfd_settime $n for $sent requests"
[ "$sent" -eq "$WANT" ] || td_fail "sent $sent of $WANT scheduled"
# 1 s / 100 µs wake-ups, one arm each, plus the first and the last (disarm), and some slack
[ "$n" -le 10100 ] || td_fail "timerfd_settime called $n times for $sent requests: a wake-up per request"
json_get "$T/r.json" "r['rate']['lag_ms']['p99']" >/dev/null || td_fail "no rate.lag_ms in the report"
echo ok
