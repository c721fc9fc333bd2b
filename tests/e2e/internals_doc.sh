#!/usr/bin/env bash
# e2e: docs/internals.md names only what exists. Every `path` in backticks exists; every `file.c:function`
# is defined in that file (a definition line: the name followed by '(' on a line that starts in column 0);
# every bare `snake_case` or `UPPER_CASE` identifier occurs in the product code; every bare `name.h` or
# `name.c` is a file of the tree. So a rename or a move that forgets the page fails here. The checker is
# also run on a copy with two wrong names, which it must report (a test that can fail).
source "$(dirname "$0")/../lib/common.sh"
T=$(td_tmpdir)
cd "$ROOT"

check_doc() { # doc: prints one line per stale name, exit 1 when there is any
    python3 - "$1" <<'PY'
import os, re, sys
doc = open(sys.argv[1], encoding="utf-8").read()
rooms = ["captures", "proxy", "replay"]
srcs = []
for room in rooms:
    for d, _, fs in os.walk(room):
        srcs += [os.path.join(d, f) for f in fs if f.endswith((".c", ".h"))]
by_base = {}
for p in srcs:
    by_base.setdefault(os.path.basename(p), []).append(p)
text = {p: open(p, encoding="utf-8", errors="replace").read() for p in srcs}
everything = "\n".join(text.values())
bad = []

def resolve(f):
    if "/" in f:
        return f if os.path.isfile(f) else None
    hits = by_base.get(f, [])
    return hits[0] if len(hits) == 1 else None

def defines(path, fn):
    return re.search(r"^[A-Za-z_][^\n;]*\b%s\(" % re.escape(fn), text.get(path) or open(path).read(), re.M)

for tok in re.findall(r"`([^`\n]+)`", doc):
    m = re.fullmatch(r"([\w./-]+\.(?:c|h|md|sh|py))(?::(\w+))?", tok)
    if m:
        path = resolve(m.group(1))
        if not path:
            bad.append("no such file: " + m.group(1))
        elif m.group(2) and not defines(path, m.group(2)):
            bad.append("%s does not define %s" % (path, m.group(2)))
        continue
    if re.fullmatch(r"[\w./-]+/", tok):
        if not os.path.isdir(tok):
            bad.append("no such folder: " + tok)
        continue
    if re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", tok):
        if not re.search(r"\b%s\b" % re.escape(tok), everything):
            bad.append("no such name in the code: " + tok)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
}

out=$(check_doc docs/internals.md) || td_fail "docs/internals.md names what does not exist:
$out"

# The checker must catch a wrong function, a wrong path and a wrong bare name.
sed -e 's/`proxy\/conn\/proxy_conn.c:pconn_parse`/`proxy\/conn\/proxy_conn.c:pconn_parse_gone`/' \
    -e 's/`replay\/stats\/latency_cmp.c:latency_cmp_quantile`/`replay\/stats\/compare.c:compare_quantile`/' \
    -e 's/`report_set_check_extras`/`report_set_check_extra`/' docs/internals.md >"$T/bad.md"
rc=0; out=$(check_doc "$T/bad.md") || rc=$?
[ "$rc" = 1 ] || td_fail "the checker passed a page with wrong names"
for want in "does not define pconn_parse_gone" "no such file: replay/stats/compare.c" "no such name in the code: report_set_check_extra"; do
    grep -qF "$want" <<<"$out" || td_fail "the checker missed: $want (it said: $out)"
done
echo "docs/internals.md: every name it gives exists"
