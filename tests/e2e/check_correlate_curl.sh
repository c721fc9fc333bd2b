#!/usr/bin/env bash
# e2e: where the correlation scan runs. With the native client it reads the recorded requests on demand,
# during the replay; with libcurl, whose timers would time out the transfers in flight while a judgment
# waits for the scan, it reads them all before the first request goes out. Seen from outside on a capture
# damaged after its first records: --engine curl stops with exit 2 having sent nothing, the native client
# sends the good records first (read one at a time here, --read-window 1) and then stops with exit 2
# (both name the damage).
source "$(dirname "$0")/../lib/common.sh"
td_tmpdir >/dev/null
T=$(td_tmpdir); [ -n "${KEEP:-}" ] && echo "$T" >/tmp/ccc_dir
mkdir -p "$T/www"
for i in $(seq 0 29); do echo "{\"id\": $i, \"name\": \"item $i\"}" >"$T/www/item$i.json"; done
PORT=$(td_free_port)
td_nginx "$PORT" "$T/www" "types { application/json json; }"
LOG=$T/nginx-$PORT/logs/access.log
python3 -c "
import json, sys
print(json.dumps([{'conn': 1 + i % 3, 'path': '/item%d.json' % i} for i in range(30)]))" >"$T/script.json"
python3 "$ROOT/tests/lib/mkcapture_check.py" --target "http://127.0.0.1:$PORT" --out "$T/good.warc.zst" \
    "$T/script.json" 2>/dev/null
# the capture, then bytes that are no zstd frame
{ cat "$T/good.warc.zst"; head -c 4096 /dev/urandom; } >"$T/damaged.warc.zst"

sent() { grep -c '"GET /item' "$LOG" || true; }
for e in curl native; do
  before=$(sent)
  rc=0
  "$BIN/tapedeck-replay" check "$T/damaged.warc.zst" --target "http://127.0.0.1:$PORT" --engine "$e" \
      --concurrency 1 --read-window 1 --no-progress >"$T/$e.out" 2>&1 || rc=$?
  n=$(($(sent) - before))
  [ "$rc" = 2 ] || { cat "$T/$e.out" >&2; td_fail "--engine $e on a damaged capture: exit $rc, expected 2"; }
  grep -qi 'zstd\|corrupt\|frame\|damaged\|truncated' "$T/$e.out" || { cat "$T/$e.out" >&2; td_fail "--engine $e: the damage is not named"; }
  echo "$e: exit 2, $n requests sent" >&2
  if [ "$e" = curl ]; then
    [ "$n" = 0 ] || td_fail "--engine curl sent $n requests before the scan found the damage (it must scan first)"
  else
    [ "$n" -gt 0 ] || td_fail "the native client sent nothing: it should replay the good records before the damage"
  fi
done
# an undamaged capture still passes with both
for e in curl native; do
  "$BIN/tapedeck-replay" check "$T/good.warc.zst" --target "http://127.0.0.1:$PORT" --engine "$e" --no-progress \
      >"$T/good-$e.out" 2>&1 || { cat "$T/good-$e.out" >&2; td_fail "--engine $e on the good capture failed"; }
done
echo ok
