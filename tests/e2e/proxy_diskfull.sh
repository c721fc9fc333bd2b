#!/usr/bin/env bash
# e2e: a full disk never hurts traffic. The capture directory is a 1 MiB tmpfs (or, where mounting is not
# allowed, the proxy runs under a 1 MiB file size limit): under load with incompressible 64 KiB bodies
# every request is still served with the right bytes, and the lost records are counted in /metrics as
# dropped{reason="write_error"}.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
mkdir -p "$tmp/www" "$tmp/small"
chmod 755 "$tmp" "$tmp/www"
head -c 65536 /dev/urandom >"$tmp/www/64k.bin"
want=$(px_sha <"$tmp/www/64k.bin")
nport=$(td_free_port)
td_nginx "$nport" "$tmp/www"
mounted=0
if mount -t tmpfs -o size=1m tmpfs "$tmp/small" 2>/dev/null; then
  mounted=1
  # unmount before td_cleanup removes the temp dir (lazily: the proxy may still hold files there)
  trap 'umount -l "$tmp/small" 2>/dev/null || true; td_cleanup' EXIT
  echo "capture dir: 1 MiB tmpfs"
  px_start_proxy --upstream "http://127.0.0.1:$nport" --capture-dir "$tmp/small" --no-dictionary
else
  echo "capture dir: RLIMIT_FSIZE 1 MiB (mount not permitted)"
  PROXY_PORT=$(td_free_port) ADMIN_PORT=$(td_free_port) PROXY_LOG=$tmp/proxy.log
  td_spawn bash -c 'ulimit -f 1024; exec "$@"' _ "$BIN/tapedeck-proxy" --listen "127.0.0.1:$PROXY_PORT" \
    --admin "127.0.0.1:$ADMIN_PORT" --upstream "http://127.0.0.1:$nport" --capture-dir "$tmp/small" --no-dictionary 2>"$PROXY_LOG"
  PROXY_PID=$TD_LAST_PID
  td_wait_port "$PROXY_PORT"; td_wait_port "$ADMIN_PORT"
fi

wrk -t1 -c8 -d3s "http://127.0.0.1:$PROXY_PORT/64k.bin" >"$tmp/wrk.txt" 2>&1
cat "$tmp/wrk.txt"
grep -q 'Non-2xx\|Socket errors' "$tmp/wrk.txt" && td_fail "wrk saw failed requests with the disk full"
n=$(awk '/requests in/ {print $1}' "$tmp/wrk.txt")
((n > 50)) || td_fail "too few requests ($n) to fill the disk"
# bytes still exact
for i in 1 2 3; do
  [ "$(curl -s "http://127.0.0.1:$PROXY_PORT/64k.bin" | px_sha)" = "$want" ] || td_fail "body changed with the disk full"
done
# the writer catches up (each failed write still formats and compresses its batch, and on a busy
# machine some records may also be dropped as queue_full, counted all the same):
# wait until every served request is accounted for, 30 s at most
for _ in $(seq 300); do
  werr=$(px_metric 'tapedeck_proxy_capture_dropped_total{reason="write_error"}')
  dropped=$(curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '$1 ~ /^tapedeck_proxy_capture_dropped_total/ { s += $2 } END { print s + 0 }')
  recorded=$(px_metric tapedeck_proxy_capture_recorded_total)
  total=$(px_metric 'tapedeck_proxy_requests_total{code="2xx"}')
  ((recorded + dropped >= total)) && break
  sleep 0.1
done
echo "served $total, recorded $recorded, dropped $dropped (write_error $werr)"
((werr > 0)) || td_fail "no write errors counted though the disk is full"
# wrk stops with up to 8 requests in flight: those are recorded (as cut by the client) but not served
((recorded + dropped >= total && recorded + dropped <= total + 8)) ||
  td_fail "recorded + dropped ($recorded + $dropped) does not account for the $total served"
((total >= n + 3 && total <= n + 3 + 8)) || td_fail "proxy served $total, clients completed $((n + 3))"
# every connection wrk closed (many in the middle of a 64 KiB response) is gone from the proxy
for _ in $(seq 50); do [ "$(px_metric tapedeck_proxy_connections_open)" = 0 ] && break; sleep 0.1; done
[ "$(px_metric tapedeck_proxy_connections_open)" = 0 ] || td_fail "$(px_metric tapedeck_proxy_connections_open) client connections leaked"
px_stop_proxy
echo "ok: disk full: every request served ($total), $dropped records dropped and counted"
