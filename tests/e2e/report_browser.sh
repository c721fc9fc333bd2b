#!/usr/bin/env bash
# The HTML and JUnit reports as a user meets them: real check and load runs (the MyDriving-like service,
# the python load origins) write them, headless chromium renders each page, and the rendered DOM is
# checked for what a reader looks for: the verdict, a row per route with the failing ones marked, each
# diff's JSON path + expected + actual, the noise listed apart, plots with points and a size, nothing
# wider than the page — and no request to any URL (chromium's proxy is a closed port, and the page's own
# resource list must stay empty; a control page with an external image proves that check can fail).
# The JUnit files must parse (xml.etree) with a testcase per route (check) or gate (load) and failures
# that carry the diffs. Screenshots are left in the test's tmpdir (TD_KEEP=1 keeps it) and printed.
# Without chromium the test is skipped, except in CI (CI=true), where install-deps must have put it.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/load_lib.bash"
td_tmpdir >/dev/null # sets TD_TMP in this shell, so helpers and cleanup share it
T=$(td_tmpdir)

CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROME" ]; then
    [ "${CI:-}" = true ] && td_fail "chromium is not installed (scripts/install-deps installs it)"
    echo "report_browser: SKIP: no chromium on PATH (scripts/install-deps installs it)"
    exit 0
fi
SVC="node $ROOT/scripts/demo/service.js"
# Every port at once (one python start; it is slow on a busy machine): five services, two load origins,
# and one where nothing listens, for chromium's proxy: a page reaching for the network gets nothing.
read -r P_V1 P_NOISY P_FRESH P_V2 P_NR PA PS CLOSED < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(8)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
td_spawn $SVC --port "$P_V1" --variant v1 >/dev/null           # recorded from
td_spawn $SVC --port "$P_NOISY" --variant noisy >/dev/null     # recorded from
td_spawn $SVC --port "$P_FRESH" --variant v1 >/dev/null        # passes
td_spawn $SVC --port "$P_V2" --variant v2-good >/dev/null      # new fields, dates: diffs on most routes
td_spawn $SVC --port "$P_NR" --variant noisy-regressed >/dev/null # noise, and $.distance changed
td_spawn python3 "$ORIGIN" "$PA"
td_spawn python3 "$ORIGIN" "$PS" --delay /api/slow=40
for p in "$P_V1" "$P_NOISY" "$P_FRESH" "$P_V2" "$P_NR" "$PA" "$PS"; do td_wait_port "$p" 30; done
replay() { # expected-exit name mode capture args...: writes $T/name.{json,xml,html}
    local want=$1 name=$2 mode=$3 cap=$4 rc=0
    shift 4
    "$REPLAY" "$mode" "$cap" --no-progress --report-json "$T/$name.json" --junit "$T/$name.xml" \
        --html "$T/$name.html" "$@" >"$T/$name.out" 2>&1 || rc=$?
    [ "$rc" = "$want" ] || { cat "$T/$name.out" >&2; td_fail "$name: exit $rc, wanted $want"; }
}

# --- the reports, from real runs --------------------------------------------------------------------
for v in "v1 rec" "noisy noisy"; do
    set -- $v
    port=P_${1^^}
    python3 "$ROOT/tests/lib/mkcapture_check.py" --target "http://127.0.0.1:${!port}" --out "$T/$2.warc.zst" \
        "$ROOT/tests/e2e/check/mydriving.json" >/dev/null
done
replay 0 stable check "$T/rec.warc.zst" --target "http://127.0.0.1:$P_FRESH"
replay 1 failing check "$T/rec.warc.zst" --target "http://127.0.0.1:$P_V2"
replay 1 noise check "$T/noisy.warc.zst" --target "http://127.0.0.1:$P_NR" --ignore '$.version' --learn-noise
# the failing report with a diff whose values and paths are long: re-rendered by `report`, as a user would
python3 - "$T/failing.json" "$T/long.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d = dict(r["diffs"][0])
d.update(where="$.items[3].description." + ".".join("level%d" % i for i in range(40)),
         expected=json.dumps([{"id": i, "text": "a long recorded value " * 8} for i in range(12)]),
         actual="y" * 5000, uri="/api/trips?" + "&".join("k%d=%s" % (i, "v" * 30) for i in range(40)))
r["diffs"].insert(1, d)
json.dump(r, open(sys.argv[2], "w"))
PY
rc=0; "$REPLAY" report "$T/long.json" --html "$T/long.html" --junit "$T/long.xml" --quiet || rc=$?
[ "$rc" = 1 ] || td_fail "report re-render: exit $rc, wanted 1 (the verdict of a failed run)"
# 300 requests at 200/s over 20 connections, one in four on the route that is 40 ms slower on PS
mk_capture "$T/load.warc.zst" 300 5000 20 "('/api/slow/%d' if i % 4 == 0 else '/api/trips/%d') % i"
replay 0 lpass load "$T/load.warc.zst" --target "http://127.0.0.1:$PA" --slo 'error_rate<1%'
replay 1 lcompare load "$T/load.warc.zst" --target "http://127.0.0.1:$PS" --compare "http://127.0.0.1:$PA" \
    --slo 'GET /api/slow/{id}: p95<30ms'
td_log "reports written after ${SECONDS}s"

# --- rendering ------------------------------------------------------------------------------------------
PROFILE=$T/chromium-a
chrome() { # args...: headless chromium, offline, a profile per lane ($PROFILE), bounded in time
    timeout -k 5 60 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
        --user-data-dir="$PROFILE" --proxy-server="http://127.0.0.1:$CLOSED" --proxy-bypass-list='<-loopback>' \
        --window-size=1280,2000 "$@" 2>>"$T/chromium.log"
}
# What the page fetched (Resource Timing lists failed loads too), how big the plots are and whether
# anything sticks out of the page: measured by a script appended to a copy of the page (the report has
# none of its own), once the page has loaded.
cat >"$T/probe.js" <<'JS'
<script>
window.addEventListener('load', function () {
  var main = document.querySelector('main'), right = main ? main.getBoundingClientRect().right : innerWidth;
  var out = {resources: performance.getEntriesByType('resource').map(function (e) { return e.name; }),
             scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth, svgs: [], wide: []};
  document.querySelectorAll('svg').forEach(function (s) {
    var r = s.getBoundingClientRect(), pts = 0, lines = s.querySelectorAll('polyline');
    lines.forEach(function (p) { pts += p.points.numberOfItems; });
    out.svgs.push({w: r.width, h: r.height, lines: lines.length, points: pts, text: s.textContent});
  });
  document.querySelectorAll('main *').forEach(function (el) {
    if (el.getBoundingClientRect().right > right + 1 && !el.closest('.tw'))
      out.wide.push(el.tagName + '.' + el.className);
  });
  out.scrollers = [].map.call(document.querySelectorAll('.tw'), function (w) { // tables that scroll sideways
    return {id: (w.firstElementChild || w).id, over: w.scrollWidth / Math.max(1, w.clientWidth)};
  });
  var pre = document.createElement('pre'); pre.id = 'td-probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
JS
# Every page in one chromium run: a frame per page (its own window width), the copies' DOMs collected by
# the frameset page once all have loaded. The copy drops the page's own policy, which would block the probe
# (it is the page's markup that is measured).
frames() { # name:width...
    local nw
    echo '<!DOCTYPE html><html><body>'
    for nw in "$@"; do
        sed 's/http-equiv="Content-Security-Policy"/data-policy-off/' "$T/${nw%:*}.html" | cat - "$T/probe.js" \
            >"$T/${nw%:*}.probe.html"
        echo "<iframe id=\"${nw%:*}\" src=\"${nw%:*}.probe.html\" style=\"position:absolute;top:0;left:0;border:0;width:${nw#*:}px;height:2000px\"></iframe>"
    done
    cat <<'JS'
<script>
window.addEventListener('load', function () {
  document.querySelectorAll('iframe').forEach(function (f) {
    var pre = document.createElement('pre'); pre.id = 'dom-' + f.id;
    pre.textContent = f.contentDocument.documentElement.outerHTML;
    document.body.appendChild(pre);
  });
});
</script></body></html>
JS
}
shot() { # name: the page itself, under its own policy (no script can run): $T/name.png, $T/name.real.dom
    chrome --screenshot="$T/$1.png" --dump-dom "file://$T/$1.html" >"$T/$1.real.dom"
}
# A control page that fetches an image and a stylesheet: the detector must see both.
printf '<html><body><main><p>x</p><img src="http://example.com/a.png"><link rel="stylesheet" href="http://fonts.example/x.css"></main></body></html>' >"$T/control.html"
# long at 640 px: long values and routes must still wrap, or scroll in their own box
frames control:1280 stable:1280 failing:1280 noise:1280 long:640 lpass:1280 lcompare:1280 >"$T/frames.html"
(PROFILE=$T/chromium-b; shot failing; shot noise) & # a second lane, with its own profile
lane=$!
chrome --allow-file-access-from-files --dump-dom "file://$T/frames.html" >"$T/frames.dom"
shot lcompare
wait "$lane" || true
td_log "pages rendered after ${SECONDS}s"
for n in failing noise lcompare; do echo "report_browser: screenshot $T/$n.png"; done

# --- what a reader checks: on the rendered DOM, the screenshots and the JUnit files --------------------
python3 - "$T" <<'PY' || td_fail "the reports do not read right (above)"
import html, html.parser, json, re, struct, sys, xml.etree.ElementTree as ET
T = sys.argv[1]
PAGES = "stable failing noise long lpass lcompare".split()

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.kids = tag, dict(attrs), parent, []
    def text(self):
        return "".join(k if isinstance(k, str) else k.text() for k in self.kids)
    def all(self, tag=None):
        for k in self.kids:
            if isinstance(k, Node):
                if tag is None or k.tag == tag:
                    yield k
                yield from k.all(tag)
    def find(self, **kw):
        return next((n for n in self.all() if all(n.attrs.get(a) == v for a, v in kw.items())), None)
class Tree(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#doc", {}, None)
    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n)
        if tag not in VOID:
            self.cur = n
    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent
    def handle_data(self, d):
        self.cur.kids.append(d)

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)
def norm(s):
    return " ".join(s.split())
def probe_of(src):  # the findings the probe script left in the page
    return json.loads(re.search(r'<pre id="td-probe">(.*?)</pre>', src, re.S).group(1))

def check_page(name, r, src):
    """The rendered page (src, the DOM chromium dumped) against the JSON report r it was made from."""
    probe = probe_of(src)
    t = Tree(); t.feed(src); doc = t.root

    # offline and self-contained
    if probe["resources"]:
        fail(name + ": " + "the page fetched %s" % probe["resources"])
    for n in doc.all():
        for a, v in n.attrs.items():
            if a in ("src", "href", "xlink:href", "action", "poster", "data") and v and not v.startswith("#"):
                fail(name + ": " + "<%s %s=%r> points outside the page" % (n.tag, a, v))
        if n.tag in ("iframe", "object", "embed", "link") or (n.tag == "script" and "td-probe" not in n.text()):
            fail(name + ": " + "<%s> in the page" % n.tag)
    if "url(" in src or "@import" in src:
        fail(name + ": " + "CSS reaches for a URL")
    # nothing wider than the window, nothing sticking out of the page column
    if probe["scrollWidth"] > probe["innerWidth"] or probe["wide"]:
        fail(name + ": " + "overflow: page %s px wide in a %s px window; sticking out: %s"
             % (probe["scrollWidth"], probe["innerWidth"], probe["wide"][:5]))
    # tables fit the page on a desktop window; in a narrow one they may scroll a little in their box
    for sc in probe["scrollers"]:
        if sc["over"] > (1.01 if probe["innerWidth"] >= 1000 else 1.5):
            fail(name + ": " + "table %s is %.2f times as wide as the page" % (sc["id"], sc["over"]))

    # the verdict, first thing on the page
    v = doc.find(id="verdict")
    if v is None:
        fail(name + ": " + "no verdict banner")
    vt = norm(v.text())
    want = "PASS" if r["verdict"] == "pass" else "FAIL"
    if not vt.startswith(want):
        fail(name + ": " + "verdict banner says %r, the report %s" % (vt[:80], r["verdict"]))
    for g in r["gates"]:
        if not g["pass"] and norm(g["expr"]) not in vt:
            fail(name + ": " + "broken gate %r not in the banner" % g["expr"])
    if r["mode"] == "check":
        phrase = ("%d of %d exchanges differ" % (r["totals"]["diffs"], r["totals"]["requests"])
                  if r["totals"]["diffs"] or r["totals"]["errors"] else "all %d exchanges matched" % r["totals"]["requests"])
        if phrase not in vt:
            fail(name + ": " + "banner lacks %r: %r" % (phrase, vt))

    # a row per method + route, failing ones marked and first
    routes = doc.find(id="routes")
    rows = [[norm(td.text()) for td in tr.all("td")] for tr in routes.all("tr")] if routes else []
    rows = [c for c in rows if c]
    if len(rows) != len(r["endpoints"]):
        fail(name + ": " + "%d route rows for %d endpoints" % (len(rows), len(r["endpoints"])))
    seen_ok = False
    for e in r["endpoints"]:
        row = next((c for c in rows if c[0] == e["method"] and c[1] == e["route"]), None)
        if row is None:
            fail(name + ": " + "no row for %s %s" % (e["method"], e["route"]))
        if r["mode"] == "check":
            bad = e["diffs"] > 0 or e["errors"] > 0
            if [int(x) for x in row[2:7]] != [e[k] for k in ("requests", "matched", "diffs", "noise", "errors")]:
                fail(name + ": " + "row %s shows %s, the report %s" % (row[:2], row[2:7], e))
        else:
            bad = any(not g["pass"] and g["expr"].startswith("%s %s:" % (e["method"], e["route"])) for g in r["gates"])
        if row[-1] != ("FAIL" if bad and r["verdict"] == "fail" else "differs" if bad else "ok"):
            fail(name + ": " + "row %s says %r" % (row[:2], row[-1]))
    # a failing route's result links to the route's first diff, which is on the page
    for tr in (routes.all("tr") if routes else []):
        cells = [norm(td.text()) for td in tr.all("td")]
        if not cells:
            continue
        want = None
        if r["mode"] == "check" and cells[-1] != "ok":
            want = next(("#diff-" + d["id"] for d in r["diffs"][:500] if (d["method"], d["route"]) == tuple(cells[:2])), None)
        a = next(tr.all("a"), None)
        if (a.attrs.get("href") if a is not None else None) != want or (want and doc.find(id=want[1:]) is None):
            fail(name + ": " + "route %s links to %r, wanted %r (on the page)" % (cells[:2], a and a.attrs.get("href"), want))
    for c in rows:
        if c[-1] == "ok":
            seen_ok = True
        elif seen_ok:
            fail(name + ": " + "failing route %s listed after a passing one" % c[:2])

    # each diff: its JSON path, expected and actual in one row of the diff table
    diffs = doc.find(id="diffs")
    drows = [[norm(td.text()) for td in tr.all("td")] for tr in diffs.all("tr")] if diffs else []
    drows = [c for c in drows if c]
    if len(drows) != min(len(r["diffs"]), 500):
        fail(name + ": " + "%d diff rows for %d diffs" % (len(drows), len(r["diffs"])))
    def shows(cell, s, cap):  # the value whole, or clipped with an ellipsis when longer than the page shows
        return cell == norm(s) if len(s.encode()) <= cap else cell.endswith("…") and norm(s).startswith(cell[:40])
    for d in r["diffs"][:500]:
        if not any(shows(c[2], d["where"], 300) and shows(c[3], d["expected"], 600) and shows(c[4], d["actual"], 600)
                   for c in drows):
            fail(name + ": " + "diff not shown: %s %s expected %.60r actual %.60r" % (d["id"], d["where"], d["expected"], d["actual"]))

    # noise, apart from the diffs
    noise = doc.find(id="noise")
    if r.get("noise"):
        if noise is None:
            fail(name + ": " + "noise in the report, no noise table on the page")
        nrows = [[norm(td.text()) for td in tr.all("td")] for tr in noise.all("tr")]
        for z in r["noise"]:
            if not any(c and c[0] == z["method"] and c[1] == z["route"] and "%s (%d)" % (z["where"], z["count"]) in c[2]
                       for c in nrows):
                fail(name + ": " + "noise %s %s %s not listed" % (z["method"], z["route"], z["where"]))
    elif noise is not None:
        fail(name + ": " + "a noise table without noise")

    # load: the two plots, with their axes, points and (in --compare runs) the baseline
    if r["mode"] == "load":
        if len(probe["svgs"]) != 2:
            fail(name + ": " + "%d plots, wanted 2" % len(probe["svgs"]))
        for s, axis in zip(probe["svgs"], ("time since start (s)", "percentile")):
            if s["w"] < 600 or s["h"] < 200 or s["points"] < 10:
                fail(name + ": " + "plot %r: %sx%s px, %s points" % (axis, s["w"], s["h"], s["points"]))
            for label in (axis, "latency (ms)") + (("baseline",) if "baseline" in r else ()):
                if label not in s["text"]:
                    fail(name + ": " + "plot lacks %r" % label)
    return "%s, %d route rows, %d diff rows, %d noise fields, %d plots" % (
        r["verdict"], len(rows), len(drows), len(r.get("noise") or []), len(probe["svgs"]))

def check_junit(name, r, path):
    root = ET.parse(path).getroot()
    suites = root.findall("testsuite")
    if root.tag != "testsuites" or len(suites) != 1:
        fail("%s: <%s> with %d suites" % (name, root.tag, len(suites)))
    s = suites[0]
    cases = s.findall("testcase")
    names = [c.get("name") for c in cases]
    gates = [g["expr"] for g in r["gates"]]
    routes = ["%s %s" % (e["method"], e["route"]) for e in r["endpoints"]] if r["mode"] == "check" else []
    if names != routes + gates:
        fail("%s: testcases %s, wanted a route each then a gate each: %s" % (name, names, routes + gates))
    failures = [c for c in cases if c.find("failure") is not None]
    for el in (root, s):
        if int(el.get("tests")) != len(cases) or int(el.get("failures")) != len(failures):
            fail("%s: <%s tests=%s failures=%s> for %d cases, %d failures"
                 % (name, el.tag, el.get("tests"), el.get("failures"), len(cases), len(failures)))
    if float(s.get("time", "0")) <= 0:
        fail("%s: the suite has no time" % name)
    if bool(failures) != (r["verdict"] == "fail"):
        fail("%s: %d failures for verdict %s" % (name, len(failures), r["verdict"]))
    for c in cases:
        f = c.find("failure")
        if c.get("name") in routes:
            m, route = c.get("name").split(" ", 1)
            mine = [d for d in r["diffs"] if d["method"] == m and d["route"] == route]
            if (f is not None) != (bool(mine) and r["verdict"] == "fail"):
                fail("%s: %s: failure %s with %d diffs" % (name, c.get("name"), f is not None, len(mine)))
            for d in mine[:50]:
                if not all(d[k][:2000] in (f.text or "") for k in ("where", "expected", "actual")):
                    fail("%s: %s: the failure text lacks diff %s %s" % (name, c.get("name"), d["id"], d["where"]))
            out = c.findtext("system-out") or ""
            for z in r.get("noise") or []:
                if (z["method"], z["route"]) == (m, route) and z["where"] not in out:
                    fail("%s: %s: the noise %s is not in system-out" % (name, c.get("name"), z["where"]))
        elif f is not None:
            g = r["gates"][gates.index(c.get("name"))]
            if g["pass"] or g["observed"] not in f.get("message", ""):
                fail("%s: gate %s: failure %s" % (name, g["expr"], f.attrib))
    return "%d testcases, %d failures" % (len(cases), len(failures))

# every page came out of the frameset
frames = open(T + "/frames.dom").read()
for n in ["control"] + PAGES:
    m = re.search(r'<pre id="dom-%s">(.*?)</pre>' % n, frames, re.S)
    if not m or "td-probe" not in m.group(1):
        fail("%s: chromium did not render the page (see %s/chromium.log)" % (n, T))
    open("%s/%s.dom" % (T, n), "w").write(html.unescape(m.group(1)))
# the fetch detector sees a page's fetches: the control page's image and stylesheet
ctl = probe_of(open(T + "/control.dom").read())
if not {"http://example.com/a.png", "http://fonts.example/x.css"} <= set(ctl["resources"]):
    fail("control: the fetch detector missed the control page's fetches: %s" % ctl["resources"])
# the screenshots, of the pages themselves (under their own policy: no script could run), which read
# exactly like the copies that were measured
txt = lambda s: " ".join(re.sub(r"<[^>]+>", " ", re.sub(r'<pre id="td-probe">.*?</pre>|<script>.*?</script>',
                                                         "", s, flags=re.S)).split())
for n in ("failing", "noise", "lcompare"):
    b = open("%s/%s.png" % (T, n), "rb").read()
    if b[:8] != b"\x89PNG\r\n\x1a\n" or struct.unpack(">II", b[16:24]) != (1280, 2000) or len(b) < 20000:
        fail("%s: no 1280x2000 screenshot" % n)
    real = open("%s/%s.real.dom" % (T, n)).read()
    if 'http-equiv="Content-Security-Policy" content="default-src \'none\'' not in real:
        fail("%s: the page has no policy against scripts and fetches" % n)
    if txt(real) != txt(open("%s/%s.dom" % (T, n)).read()):
        fail("%s: the page reads differently from its measured copy" % n)
for n in PAGES:
    r = json.load(open("%s/%s.json" % (T, n)))
    print("ok %s.html: %s" % (n, check_page(n, r, open("%s/%s.dom" % (T, n)).read())))
    print("ok %s.xml: %s" % (n, check_junit(n, r, "%s/%s.xml" % (T, n))))
PY
echo "report_browser: ok"
