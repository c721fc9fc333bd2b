#!/usr/bin/env bash
# e2e: --no-payload-digest records leave WARC-Payload-Digest out and nothing else: the capture verifies,
# warcio (another WARC reader) indexes every record, and a proxy without the flag still writes the digest.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

WARCIO=$TAPEDECK_NPM_DIR/node_modules/.bin/warcio
[ -x "$WARCIO" ] || td_fail "warcio not installed in $TAPEDECK_NPM_DIR (run scripts/install-deps)"
tmp=$(td_tmpdir)
mkdir -p "$tmp/www"
chmod 755 "$tmp" "$tmp/www"
printf '{"ok":true,"n":1}\n' >"$tmp/www/a.json"
nport=$(td_free_port)
td_nginx "$nport" "$tmp/www"
for mode in off on; do
  flag=()
  [ "$mode" = off ] && flag=(--no-payload-digest)
  px_start_proxy --upstream "http://127.0.0.1:$nport" --capture-dir "$tmp/cap-$mode" --no-dictionary "${flag[@]}"
  for i in 1 2 3; do
    [ "$(curl -fsS "http://127.0.0.1:$PROXY_PORT/a.json?i=$i")" = '{"ok":true,"n":1}' ] || td_fail "$mode: bad body"
  done
  px_stop_proxy
  "$BIN/tapedeck-capture" verify -q "$tmp/cap-$mode" >/dev/null || td_fail "$mode: capture does not verify"
  px_dump "$tmp/cap-$mode" >"$tmp/$mode.warc"
  n=$("$WARCIO" index "$tmp/$mode.warc" | grep -c '"warc-type"')
  [ "$n" -eq 7 ] || td_fail "$mode: warcio found $n records, want 7 (warcinfo + 3 exchanges)"
  d=$(grep -c '^WARC-Payload-Digest: sha256:' "$tmp/$mode.warc" || true)
  if [ "$mode" = off ]; then
    [ "$d" -eq 0 ] || td_fail "--no-payload-digest: $d records still carry WARC-Payload-Digest"
  else
    [ "$d" -eq 6 ] || td_fail "default: $d of 6 records carry WARC-Payload-Digest"
  fi
  [ "$(grep -c '^WARC-Target-URI: http://127.0.0.1' "$tmp/$mode.warc")" -eq 6 ] || td_fail "$mode: target URIs missing"
done
echo "ok: --no-payload-digest leaves the digest out, the capture verifies and warcio reads it"
