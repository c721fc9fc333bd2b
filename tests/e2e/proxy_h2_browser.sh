#!/usr/bin/env bash
# e2e: Chromium loads a page through the proxy over https with h2: the page, its stylesheet, script,
# images and a fetch() the script makes all come through one TLS listener (a throwaway certificate,
# --ignore-certificate-errors), the DOM shows the script ran with the fetched data, and every request
# the origin served is in the capture as an h2 exchange (WARC-Protocol h2 and tls/1.x).
# Without chromium the test is skipped, except in CI (CI=true), where install-deps must have put it.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/proxy_lib.bash"
source "$(dirname "$0")/proxy_tls_lib.bash"
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROME" ]; then
  [ "${CI:-}" = true ] && td_fail "chromium is not installed (scripts/install-deps installs it)"
  echo "proxy_h2_browser: SKIP: no chromium on PATH"; exit 0
fi

tmp=$(td_tmpdir)
px_mkcert "$tmp" site
mkdir -p "$tmp/www/img"
cat >"$tmp/www/index.html" <<'HTML'
<!doctype html><html><head><meta charset="utf-8"><title>h2 page</title>
<link rel="stylesheet" href="/style.css"><link rel="icon" href="/img/icon.png"></head>
<body><h1>through tapedeck</h1><div id="out">pending</div>
<img src="/img/a.png"><img src="/img/b.png"><img src="/img/c.png"><img src="/img/d.png"><img src="/img/e.png">
<script src="/app.js"></script></body></html>
HTML
echo 'h1 { color: #333 }' >"$tmp/www/style.css"
cat >"$tmp/www/app.js" <<'JS'
fetch('/api/data.json?n=1').then(r => r.json()).then(d => { document.getElementById('out').textContent = 'fetched:' + d.word; });
JS
echo '{"word": "tapedeck-h2"}' >"$tmp/www/api-data.json"
mkdir -p "$tmp/www/api" && cp "$tmp/www/api-data.json" "$tmp/www/api/data.json"
for i in a b c d e icon; do printf '\x89PNG\r\n\x1a\n%s' "$i" >"$tmp/www/img/$i.png"; done
chmod -R a+rX "$tmp" # nginx workers run unprivileged
port=$(td_free_port)
td_nginx "$port" "$tmp/www"
access=$(dirname "$TD_NGINX_CONF")/logs/access.log
px_start_proxy --upstream "http://127.0.0.1:$port" --tls-cert "$tmp/site.crt" --tls-key "$tmp/site.key" \
  --capture-dir "$tmp/cap" --no-dictionary

timeout -k 5 60 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$tmp/profile" \
  --no-proxy-server --ignore-certificate-errors --disable-background-networking --disable-component-update \
  --virtual-time-budget=5000 --dump-dom "https://127.0.0.1:$PROXY_PORT/index.html" >"$tmp/dom.html" 2>"$tmp/chromium.log" \
  || { tail -20 "$tmp/chromium.log"; td_fail "chromium failed"; }
grep -q 'fetched:tapedeck-h2' "$tmp/dom.html" || { cat "$tmp/dom.html"; td_fail "the page's script did not get its fetch() through the proxy"; }
px_stop_proxy

# every request nginx served is in the capture, each as an h2 exchange
awk '{print $7}' "$access" | sort >"$tmp/origin.list"
"$BIN/tapedeck-capture" ls "$tmp/cap" | awk '{print $4}' | sort >"$tmp/capture.list"
echo "origin served: $(tr '\n' ' ' <"$tmp/origin.list")"
n=$(wc -l <"$tmp/origin.list")
((n >= 9)) || td_fail "the origin served $n requests, expected the page and at least 8 resources"
diff "$tmp/origin.list" "$tmp/capture.list" || td_fail "the capture and the origin's log differ"
px_dump "$tmp/cap" >"$tmp/dump"
req=$(grep -ac '^WARC-Type: request' "$tmp/dump")
h2=$(awk '/^WARC-Type: request/ {r=1} /^WARC-Type: response/ {r=0} r && /^WARC-Protocol: h2/ {n++} END {print n+0}' "$tmp/dump")
[ "$req" = "$n" ] && [ "$h2" = "$n" ] || td_fail "$h2 of $req request records say WARC-Protocol h2 ($n requests)"
grep -aq '^WARC-Protocol: tls/1\.[23]' "$tmp/dump" || td_fail "no WARC-Protocol tls in the capture"
echo "ok: chromium over h2 through the proxy, $n requests recorded"
