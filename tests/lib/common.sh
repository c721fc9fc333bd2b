# Shared helpers for end-to-end tests (source it). Every test: set -euo pipefail, source this, use
# td_tmpdir for files, td_spawn for background processes (killed on exit), td_free_port for ports.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${BIN:-$ROOT/bin}
TAPEDECK_NPM_DIR=${TAPEDECK_NPM_DIR:-$ROOT/build/npm}
TD_PIDS=()
TD_TMP=""

td_cleanup() {
    local p
    for p in "${TD_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    for p in "${TD_PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
    [ -n "$TD_TMP" ] && [ -z "${TD_KEEP:-}" ] && rm -rf "$TD_TMP"
    return 0
}
trap td_cleanup EXIT

# Made when the file is sourced: td_tmpdir is often called inside $(...), where setting TD_TMP lazily
# would only set it in the subshell and leave a directory behind per call.
TD_TMP=$(mktemp -d /tmp/tapedeck-test.XXXXXX)
td_tmpdir() { # prints the test's temp dir, removed on exit (TD_KEEP=1 keeps it)
    echo "$TD_TMP"
}

td_fail() { echo "FAIL: $*" >&2; exit 1; }
td_log() { echo "# $*" >&2; }

td_free_port() { # a TCP port free on 127.0.0.1 right now
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

td_wait_port() { # port [seconds]: wait until something listens on 127.0.0.1:port
    local port=$1 deadline=$((SECONDS + ${2:-10}))
    while ((SECONDS < deadline)); do
        (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
        sleep 0.05
    done
    td_fail "nothing listens on 127.0.0.1:$port after ${2:-10}s"
}

td_spawn() { # command...: start in background, remember the pid (in TD_LAST_PID), kill on exit
    "$@" &
    TD_LAST_PID=$!
    TD_PIDS+=("$TD_LAST_PID")
}

# CPU time in ns of a pid's threads, all of them or those called name (0: none): the scheduler's exact
# sum (/proc/.../schedstat), or utime + stime (10 ms ticks) where the kernel has no schedstat.
td_cpu_ns() { # pid [name]
    local t s=0 hz
    hz=$(getconf CLK_TCK)
    for t in /proc/"$1"/task/*; do
        [ -z "${2:-}" ] || [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] || continue
        if [ -r "$t/schedstat" ]; then
            s=$((s + $(awk '{print $1}' "$t/schedstat" 2>/dev/null || echo 0)))
        else
            s=$((s + $(awk -v hz="$hz" '{printf "%.0f", ($14 + $15) * 1e9 / hz}' "$t/stat" 2>/dev/null || echo 0)))
        fi
    done
    echo "$s"
}

# Start nginx serving DIR on PORT (extra server-block config in $3). Sets TD_NGINX_CONF.
td_nginx() { # port root_dir [extra_config]
    local port=$1 root=$2 extra=${3:-} d
    d=$(td_tmpdir)/nginx-$port
    mkdir -p "$d/logs" "$d/tmp"
    cat >"$d/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp; proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp;
    uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
    default_type application/octet-stream;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$port;
        root $root;
        $extra
    }
}
CONF
    TD_NGINX_CONF=$d/nginx.conf
    td_spawn /usr/sbin/nginx -c "$d/nginx.conf" -e "$d/logs/error.log"
    td_wait_port "$port"
}
