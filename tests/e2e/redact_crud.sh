#!/usr/bin/env bash
# e2e: privacy at capture. A create -> read -> update -> delete chain against a notes API that hands out
# secrets (session, API key, ids) is recorded through tapedeck-proxy with every secret redacted
# (--redact-header/-json/-query/-cookie/-form). Checks: no secret in `tapedeck-capture cat` nor in any
# decoded body (`show`); equal secrets give equal tokens in requests and responses; a malformed JSON body
# is replaced whole and counted (/metrics and WARC-Tapedeck-Redacted); the stored messages still replay:
# check against a fresh candidate (other ids, other sessions, a test token via --set-header) passes with
# correlation and fails without it. A second, plain proxy behind the first records the same traffic
# unredacted; `tapedeck-capture redact` with the first proxy's key turns it into the same messages and
# leaves its input untouched.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

T=$(td_tmpdir)
M=S3CR3T
start_origin() { # args... -> ORIGIN_URL
  local p
  p=$(td_free_port)
  td_spawn python3 "$ROOT/tests/e2e/redact_origin.py" "$p" --marker "$M" "$@"
  td_wait_port "$p"
  ORIGIN_URL="http://127.0.0.1:$p"
}
start_origin --token "prod-$M-token"
head -c 32 /dev/urandom >"$T/key"
RULES=(--redact-header Authorization --redact-header X-Session --redact-header X-Api-Key
  --redact-json '$.session' --redact-json '$.apiKey' --redact-json '$..email' --redact-json '$.card'
  --redact-json '$.id' --redact-query id --redact-cookie sid --redact-form password)

# proxy B (plain recording) in front of the origin, proxy A (redacting) in front of B
px_start_proxy --upstream "$ORIGIN_URL" --capture-dir "$T/plain" --no-dictionary
B_PORT=$PROXY_PORT B_PID=$PROXY_PID B_LOG=$PROXY_LOG
px_start_proxy --upstream "http://127.0.0.1:$B_PORT" --capture-dir "$T/red" "${RULES[@]}" --redact-key-file "$T/key"

U="http://127.0.0.1:$PROXY_PORT"
AUTH="Authorization: Bearer prod-$M-token"
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
sess=$(curl -fsS -H "$AUTH" --data-urlencode 'user=ann' --data-urlencode "password=hunter2-$M" "$U/api/login" | json session)
H=(-H "$AUTH" -H "X-Session: $sess" -H "Cookie: sid=$sess; theme=dark")
created=$(curl -fsS "${H[@]}" -H 'Content-Type: application/json' \
  -d "{\"title\":\"groceries\",\"owner\":{\"email\":\"ann.$M@example.com\"},\"card\":\"4111-$M\"}" "$U/api/notes")
id=$(json id <<<"$created") key=$(json apiKey <<<"$created")
H+=(-H "X-Api-Key: $key")
curl -fsS --compressed "${H[@]}" "$U/api/notes?id=$id" | grep -q groceries || td_fail "read after create"
curl -fsS "${H[@]}" -X PATCH -H 'Content-Type: application/json' -d "{\"id\":$id,\"title\":\"groceries 2\"}" \
  "$U/api/notes" | grep -q 'groceries 2' || td_fail "update"
curl -fsS --compressed "${H[@]}" "$U/api/notes?id=$id" | grep -q 'groceries 2' || td_fail "read after update"
curl -fsS "${H[@]}" -X DELETE "$U/api/notes?id=$id" || td_fail "delete"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "${H[@]}" "$U/api/notes?id=$id")" = 404 ] || td_fail "read after delete"
[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "$AUTH" -H 'Content-Type: application/json' \
  -d "{\"password\":\"broken-$M\"," "$U/api/raw")" = 400 ] || td_fail "malformed JSON not refused by the origin"
sleep 0.3
[ "$(px_metric tapedeck_proxy_capture_redacted_bodies_total)" = 1 ] ||
  td_fail "redacted bodies metric: $(px_metric tapedeck_proxy_capture_redacted_bodies_total), want 1"
[ "$(px_metric tapedeck_proxy_capture_redacted_total)" = 8 ] ||
  td_fail "redacted exchanges metric: $(px_metric tapedeck_proxy_capture_redacted_total), want 8"
px_stop_proxy
PROXY_PID=$B_PID PROXY_LOG=$B_LOG px_stop_proxy

# 1. nothing secret anywhere: plain WARC, and every body decoded
"$BIN/tapedeck-capture" cat "$T/red" >"$T/red.warc"
n=$(grep -ac '^WARC-Type: request' "$T/red.warc")
[ "$n" = 8 ] || td_fail "$n exchanges recorded, want 8"
grep -a "$M" "$T/red.warc" && td_fail "a secret reached the capture (cat)"
grep -aq 'hunter2\|sess-\|key-' "$T/red.warc" && td_fail "a secret's remains reached the capture"
for i in $(seq 1 "$n"); do "$BIN/tapedeck-capture" show "$i" "$T/red"; done >"$T/shown" 2>&1
grep -a "$M" "$T/shown" && td_fail "a secret is in a decoded body (show)"
grep -aqi '^Content-Encoding: gzip' "$T/red.warc" && td_fail "a redacted gzip body kept its coding"
grep -aq "$M" <("$BIN/tapedeck-capture" cat "$T/plain") || td_fail "the plain capture lacks the secrets: test broken"
"$BIN/tapedeck-capture" verify -q "$T/red" || td_fail "the redacted capture does not verify"

# 2. equal secrets, equal tokens: the session everywhere; the id in responses, queries and the PATCH body
tok_of() { grep -aoE "$1" "$T/red.warc" | sed -E "s/$1/\\1/" | sort | uniq -c | awk '{print $2}'; }
s_json=$(tok_of '"session": "([^"]*)"') s_hdr=$(tok_of '^X-Session: (hmac-sha256:[0-9a-f]{32})')
s_ck=$(tok_of '^Set-Cookie: sid=([^;]*);') s_ck2=$(tok_of '^Cookie: sid=([^;]*);')
[[ "$s_json" == hmac-sha256:* && "$s_json" == "$s_hdr" && "$s_hdr" == "$s_ck" && "$s_ck" == "$s_ck2" ]] ||
  td_fail "session tokens differ: json '$s_json' header '$s_hdr' set-cookie '$s_ck' cookie '$s_ck2'"
i_json=$(tok_of '"id": ([0-9]+)') i_q=$(tok_of 'notes\?id=([0-9]+) ') i_patch=$(tok_of '\{"id":([0-9]+),')
[[ ${#i_json} == 15 && "$i_json" == "$i_q" && "$i_q" == "$i_patch" ]] ||
  td_fail "id tokens differ or are not 15-digit numbers: json '$i_json' query '$i_q' patch '$i_patch'"
grep -aq '^Content-Type: application/http;msgtype=request' "$T/red.warc" || td_fail "no request records"
grep -aq '^WARC-Tapedeck-Redacted: .*json:\$\.id' "$T/red.warc" || td_fail "WARC-Tapedeck-Redacted lacks json:\$.id"
grep -aq '^WARC-Tapedeck-Redacted: body' "$T/red.warc" || td_fail "the malformed body is not listed as replaced"
grep -aq '^WARC-Target-URI: .*id=[0-9]\{15\}' "$T/red.warc" || td_fail "WARC-Target-URI query not redacted"

# 3. it replays: a fresh candidate numbering from 1000, with its own sessions and keys and a test token
check() { # expected-exit name args...
  local want=$1 name=$2 rc=0
  shift 2
  start_origin --token test-token --id-start 1000
  "$BIN/tapedeck-replay" check "$T/red" --target "$ORIGIN_URL" --no-progress --sequential \
    --set-header 'Authorization: Bearer test-token' --report-json "$T/$name.json" "$@" >"$T/$name.out" 2>&1 || rc=$?
  [ "$rc" = "$want" ] || { cat "$T/$name.out" >&2; td_fail "check $name: exit $rc, want $want"; }
}
check 0 correlated
grep -q 'ids correlated' "$T/correlated.out" || td_fail "no correlation reported"
python3 - "$T/correlated.json" <<'PY' || td_fail "correlated report"
import json, sys
r = json.load(open(sys.argv[1]))
t = r["totals"]
assert r["verdict"] == "pass" and t["requests"] == 8 and t["matched"] == 8, t
PY
check 1 uncorrelated --no-correlate
grep -q '401\|404\|403' "$T/uncorrelated.out" || td_fail "without correlation the chain should break on its tokens"

# 4. tapedeck-capture redact: the plain capture, the proxy's key -> the proxy's messages; input untouched
before=$(cat "$T"/plain/*.warc.zst | px_sha)
"$BIN/tapedeck-capture" redact "$T/plain" -o "$T/after.warc.zst" "${RULES[@]}" --redact-key-file "$T/key" \
  2>"$T/redact.err" || { cat "$T/redact.err" >&2; td_fail "capture redact failed"; }
grep -q '8 exchanges written to .*: 8 redacted, 1 bodies replaced whole' "$T/redact.err" ||
  td_fail "capture redact counts: $(cat "$T/redact.err")"
[ "$(cat "$T"/plain/*.warc.zst | px_sha)" = "$before" ] || td_fail "capture redact changed its input"
blocks() { "$BIN/tapedeck-capture" cat "$1" | python3 -c '
import sys
d = sys.stdin.buffer.read()
out = []
for rec in d.split(b"WARC/1.1\r\n")[1:]:
    head, _, block = rec.partition(b"\r\n\r\n")
    if b"msgtype=" in head:
        out.append(block.rstrip(b"\r\n"))
sys.stdout.buffer.write(b"\n=====\n".join(out))'; }
cmp -s <(blocks "$T/red") <(blocks "$T/after.warc.zst") || {
  diff <(blocks "$T/red") <(blocks "$T/after.warc.zst") | head -20 >&2
  td_fail "capture redact did not give the proxy's messages"
}
grep -a "$M" <("$BIN/tapedeck-capture" cat "$T/after.warc.zst") && td_fail "capture redact left a secret"
rc=0; "$BIN/tapedeck-capture" redact "$T/plain" -o "$T/x.warc.zst" --redact-json 'a.b' 2>"$T/bad.err" || rc=$?
[ "$rc" = 2 ] && grep -q "bad JSONPath 'a.b'" "$T/bad.err" || td_fail "bad --redact-json: exit $rc, $(cat "$T/bad.err")"
rc=0; "$BIN/tapedeck-capture" redact "$T/plain" -o "$T/x.warc.zst" 2>"$T/none.err" || rc=$?
[ "$rc" = 2 ] || td_fail "redact without a rule: exit $rc"
rc=0; "$BIN/tapedeck-proxy" --upstream "$ORIGIN_URL" --redact-json '$' 2>"$T/pbad.err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--redact-json" "$T/pbad.err" || td_fail "proxy bad --redact-json: exit $rc"
echo "redact_crud: ok"
