# Helpers shared by the tapedeck-proxy end-to-end tests (source after tests/lib/common.sh).
PX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

px_slow() { ((${TAPEDECK_ASAN:-0})) && echo "$2" || echo "$1"; } # value, value under ASan

px_start_origin() { # starts the python test origin; sets ORIGIN_PORT ORIGIN_LOG
  ORIGIN_PORT=$(td_free_port)
  ORIGIN_LOG=$(td_tmpdir)/origin-$ORIGIN_PORT.log
  : >"$ORIGIN_LOG"
  td_spawn python3 "$PX_DIR/proxy_origin.py" "$ORIGIN_PORT" "$ORIGIN_LOG"
  td_wait_port "$ORIGIN_PORT"
}

px_start_proxy() { # extra proxy args...; sets PROXY_PORT ADMIN_PORT PROXY_PID PROXY_LOG
  PROXY_PORT=$(td_free_port)
  ADMIN_PORT=$(td_free_port)
  PROXY_LOG=$(td_tmpdir)/proxy-$PROXY_PORT.log
  td_spawn "$BIN/tapedeck-proxy" --listen "127.0.0.1:$PROXY_PORT" --admin "127.0.0.1:$ADMIN_PORT" "$@" \
    2>"$PROXY_LOG"
  PROXY_PID=$TD_LAST_PID
  td_wait_port "$PROXY_PORT"
  td_wait_port "$ADMIN_PORT"
}

px_metric() { # exact series (e.g. 'tapedeck_proxy_capture_dropped_total{reason="write_error"}') -> value
  curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v k="$1" '$1 == k { print $2; found=1 } END { if (!found) print "missing" }'
}

px_dump() { # capture dir -> plain WARC of every segment (written with --no-dictionary) on stdout
  local f
  for f in "$1"/*.warc.zst*; do
    [ -e "$f" ] || continue
    zstdcat -q "$f" 2>/dev/null || true
  done
}

px_sha() { sha256sum | cut -c1-64; }

px_raw() { # port [wait] [--half-close]: stdin bytes -> response bytes (see proxy_raw.py)
  python3 "$PX_DIR/proxy_raw.py" "$@"
}

px_stop_proxy() { # SIGTERM the proxy and wait; fails the test unless it exits 0
  local rc=0
  kill -TERM "$PROXY_PID" 2>/dev/null || true
  wait "$PROXY_PID" || rc=$?
  [ "$rc" = 0 ] || { cat "$PROXY_LOG" >&2; td_fail "tapedeck-proxy exited $rc after SIGTERM"; }
  if grep -q 'Sanitizer\|runtime error' "$PROXY_LOG"; then
    cat "$PROXY_LOG" >&2; td_fail "sanitizer report in the proxy's log"
  fi
}
