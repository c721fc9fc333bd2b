#!/usr/bin/env bash
# e2e: tapedeck-proxy's command line: --help and --version exit 0, bad arguments exit 2 with a message
# naming the flag, runtime trouble at startup (address in use, unusable capture dir) exits 1.
source "$(dirname "$0")/../lib/common.sh"
P=$BIN/tapedeck-proxy
tmp=$(td_tmpdir)

"$P" --help >"$tmp/help" || td_fail "--help failed"
for o in --listen --upstream --upstream-file --capture-dir --sample --record-path --skip-path --max-body \
         --redact-header --rotate-size --rotate-age --admin --workers --drain-timeout; do
  grep -q -- "$o" "$tmp/help" || td_fail "--help does not list $o"
done
"$P" --version | grep -qE '^tapedeck-proxy [0-9]+\.[0-9]+' || td_fail "--version output"

bad() { # expected-message-part, args...
  local want=$1 rc=0; shift
  "$P" "$@" >/dev/null 2>"$tmp/err" || rc=$?
  [ "$rc" = 2 ] || td_fail "'$*' exited $rc, want 2"
  grep -q -- "$want" "$tmp/err" || td_fail "'$*': message '$(cat "$tmp/err")' does not mention '$want'"
  echo "exit 2: $* -> $(cat "$tmp/err")"
}
up=(--upstream http://127.0.0.1:9)
bad "--bogus" --bogus
bad "no upstream"
bad "ftp://x" --upstream ftp://x
bad "/api" --upstream http://127.0.0.1:9/api
bad "--sample" "${up[@]}" --sample 101
bad "--header-timeout" "${up[@]}" --header-timeout soon
bad "--max-body" "${up[@]}" --max-body 1X
bad "--workers" "${up[@]}" --workers 0
bad "--listen" "${up[@]}" --listen nope
bad "--record-path" "${up[@]}" --record-path '('
bad "--admin" "${up[@]}" --admin x:y
bad "--upstream-file $tmp/none" --upstream-file "$tmp/none"
bad "needs a value" "${up[@]}" --capture-dir
bad "unexpected argument" "${up[@]}" extra
port=$(td_free_port)
bad "own --listen" --upstream "http://127.0.0.1:$port" --listen "127.0.0.1:$port"

# runtime trouble: the listen address is taken (without SO_REUSEPORT), the capture dir cannot be made
td_spawn python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", int(__import__("sys").argv[1]))); s.listen(1); time.sleep(30)' "$port"
td_wait_port "$port"
rc=0; timeout 10 "$P" "${up[@]}" --listen "127.0.0.1:$port" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || td_fail "busy listen address: exit $rc, want 1"
grep -q "127.0.0.1:$port" "$tmp/err" || td_fail "busy listen address not named: $(cat "$tmp/err")"
touch "$tmp/file"
rc=0; timeout 10 "$P" "${up[@]}" --listen "127.0.0.1:$(td_free_port)" --capture-dir "$tmp/file/sub" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || td_fail "unusable capture dir: exit $rc, want 1"
grep -q "$tmp/file/sub" "$tmp/err" || td_fail "capture dir not named: $(cat "$tmp/err")"
echo "ok: help, version, 15 bad-argument cases (exit 2), busy address and bad capture dir (exit 1)"
