#!/usr/bin/env bash
# e2e: recording options. --record-path / --skip-path pick exchanges by request target, --sample records
# about the given share, --redact-header replaces secrets in the capture by keyed hashes (equal values stay
# equal; the upstream still gets the real value), --max-body cuts recorded bodies, SIGHUP and
# --rotate-size start new segments, and two --workers share one capture.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"

tmp=$(td_tmpdir)
px_start_origin
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --capture-dir "$tmp/a" --no-dictionary \
  --record-path '^/api/' --skip-path 'health' --redact-header Authorization --redact-header Set-Cookie \
  --max-body 1000 --workers 2
for p in /api/one /api/health /static/x /api/two; do
  curl -fsS -o /dev/null "http://127.0.0.1:$PROXY_PORT$p" || td_fail "GET $p"
done
# the same secret twice, another once; the origin must see the real value
for tok in s3cret-A s3cret-A s3cret-B; do
  r=$(curl -fsS -D - -H "Authorization: $tok" "http://127.0.0.1:$PROXY_PORT/api/secret")
  grep -q "session=$tok" <<<"$r" || td_fail "the client did not get the upstream's real Set-Cookie"
done
head -c 5000 /dev/urandom >"$tmp/body"
curl -fsS -o "$tmp/echo" --data-binary @"$tmp/body" "http://127.0.0.1:$PROXY_PORT/api/echo"
cmp -s "$tmp/body" "$tmp/echo" || td_fail "the forwarded body was cut (only the record may be)"
kill -HUP "$PROXY_PID" # rotate
sleep 0.5
curl -fsS -o /dev/null "http://127.0.0.1:$PROXY_PORT/api/after-rotate"
px_stop_proxy
ls "$tmp/a"
nseg=$(ls "$tmp"/a/*.warc.zst | wc -l)
((nseg == 2)) || td_fail "$nseg segments after one SIGHUP, want 2"
px_dump "$tmp/a" >"$tmp/a.warc"
uris=$(grep -a '^WARC-Target-URI:' "$tmp/a.warc" | sed 's/.*127.0.0.1:[0-9]*//' | tr -d '\r' | sort -u | tr '\n' ' ')
for want in /api/one /api/two /api/echo /api/after-rotate; do
  grep -q "$want " <<<"$uris" || td_fail "$want not recorded (recorded: $uris)"
done
grep -q '/api/health\|/static/x' <<<"$uris" && td_fail "skipped or unmatched paths were recorded: $uris"
grep -aq 's3cret' "$tmp/a.warc" && td_fail "a secret reached the capture"
grep -aq 'hmac-sha256:' "$tmp/a.warc" || td_fail "no keyed hash in the capture"
na=$(grep -a '^Authorization: hmac-sha256:' "$tmp/a.warc" | sort | uniq -c | sort -rn | awk '{print $1}' | tr '\n' ' ')
[ "$na" = "2 1 " ] || td_fail "Authorization hashes: counts '$na', want '2 1 ' (equal values equal)"
grep -aq '^Set-Cookie: session=hmac-sha256:\|^Set-Cookie: hmac-sha256:' "$tmp/a.warc" || td_fail "Set-Cookie not redacted"
grep -aq '^WARC-Truncated: length' "$tmp/a.warc" || td_fail "the 5000-byte body was not cut at --max-body 1000"

# --sample 30: about 30 % of 200 exchanges (bounds far from chance failures: p < 1e-6)
px_start_proxy --upstream "http://127.0.0.1:$ORIGIN_PORT" --capture-dir "$tmp/b" --no-dictionary --sample 30 \
  --rotate-size 20K
for i in $(seq 1 200); do printf 'url = "http://127.0.0.1:%s/s/%d"\noutput = "/dev/null"\n' "$PROXY_PORT" "$i"; done >"$tmp/urls"
curl -s -K "$tmp/urls"
sleep 0.3
rec=$(px_metric tapedeck_proxy_capture_recorded_total)
out=$(px_metric tapedeck_proxy_capture_sampled_out_total)
echo "sample 30%: recorded $rec, sampled out $out"
((rec + out == 200)) || td_fail "recorded + sampled out = $((rec + out)), want 200"
((rec >= 25 && rec <= 95)) || td_fail "recorded $rec of 200 at --sample 30"
px_stop_proxy
nseg=$(ls "$tmp"/b/*.warc.zst | wc -l)
((nseg >= 2)) || td_fail "--rotate-size 20K made $nseg segment(s)"
n=$(( $(px_dump "$tmp/b" | grep -ac '^WARC-Type: request') ))
((n == rec)) || td_fail "$n exchanges in the segments, metrics said $rec"
echo "ok: path filters, redaction (equal values equal), max-body cut, SIGHUP and size rotation ($nseg segments), sampling"
