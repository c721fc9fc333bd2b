#!/usr/bin/env bash
# e2e: responses that do not compress (random bytes) are recorded in raw-block zstd frames (capwriter_raw.c)
# beside compressed ones: with a dictionary and without, the capture verifies, tapedeck-capture gives the
# bodies back byte for byte, plain `zstd -t` accepts the dictionary-less file, and warcio indexes every
# record of it with its payload digests.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

WARCIO=$TAPEDECK_NPM_DIR/node_modules/.bin/warcio
[ -x "$WARCIO" ] || td_fail "warcio not installed in $TAPEDECK_NPM_DIR (run scripts/install-deps)"
tmp=$(td_tmpdir)
mkdir -p "$tmp/www"
chmod 755 "$tmp" "$tmp/www"
head -c 65536 /dev/urandom >"$tmp/www/r.bin"
head -c 300000 /dev/urandom >"$tmp/www/big.bin"
printf '{"ok":true,"n":1}\n' >"$tmp/www/a.json"
nport=$(td_free_port)
td_nginx "$nport" "$tmp/www"
for mode in plain dict; do
  flag=()
  [ "$mode" = plain ] && flag=(--no-dictionary)
  px_start_proxy --upstream "http://127.0.0.1:$nport" --capture-dir "$tmp/cap-$mode" "${flag[@]}"
  for p in r.bin a.json big.bin r.bin a.json; do
    curl -fsS "http://127.0.0.1:$PROXY_PORT/$p" -o "$tmp/got" || td_fail "$mode: $p not proxied"
    cmp -s "$tmp/got" "$tmp/www/$p" || td_fail "$mode: $p proxied wrong"
  done
  px_stop_proxy
  "$BIN/tapedeck-capture" verify -q "$tmp/cap-$mode" >/dev/null || td_fail "$mode: capture does not verify"
  n=$("$BIN/tapedeck-capture" ls "$tmp/cap-$mode" | wc -l)
  [ "$n" -eq 5 ] || td_fail "$mode: $n exchanges in the capture, want 5"
  for k in 1 3; do
    f=$([ $k = 1 ] && echo r.bin || echo big.bin)
    "$BIN/tapedeck-capture" show --raw "$k" "$tmp/cap-$mode" | tail -c "$(stat -c %s "$tmp/www/$f")" >"$tmp/body"
    cmp -s "$tmp/body" "$tmp/www/$f" || td_fail "$mode: exchange $k's body is not $f"
  done
  size=$(cat "$tmp/cap-$mode"/*.warc.zst | wc -c)
  [ "$size" -gt $((65536 * 2 + 300000)) ] || td_fail "$mode: capture of $size bytes cannot hold the random bodies"
done
for f in "$tmp/cap-plain"/*.warc.zst; do zstd -q -t "$f" || td_fail "zstd -t rejects $f"; done
# the three random bodies went in raw-block frames: magic, descriptor 0x84 (4-byte content size,
# checksum, no dictionary id), window 128 KiB
raw=$(python3 -c 'import sys,glob; print(sum(open(f,"rb").read().count(b"\x28\xb5\x2f\xfd\x84\x38") for f in glob.glob(sys.argv[1] + "/*.warc.zst")))' "$tmp/cap-plain")
[ "$raw" -eq 3 ] || td_fail "$raw raw-block frames in the capture, want 3 (one per random body)"
px_dump "$tmp/cap-plain" >"$tmp/plain.warc"
n=$("$WARCIO" index "$tmp/plain.warc" | grep -c '"warc-type"')
[ "$n" -eq 11 ] || td_fail "warcio found $n records, want 11 (warcinfo + 5 exchanges)"
want=$(python3 -c 'import hashlib,base64,sys; print(base64.b32encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' "$tmp/www/big.bin")
grep -q "^WARC-Payload-Digest: sha256:$want" "$tmp/plain.warc" || td_fail "the 300 KB body's payload digest is wrong or missing"
echo "ok: incompressible bodies in raw-block frames verify, read back, pass zstd -t and warcio"
