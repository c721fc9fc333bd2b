#!/usr/bin/env bash
# e2e: `make install DESTDIR=... PREFIX=/usr` puts every file in place, and nothing else, with the right
# modes; what it installed works from there (the programs, the pipeline scripts finding the installed
# tapedeck-replay on PATH, the man pages through man's own search, the systemd unit naming the installed
# proxy); `make uninstall` removes all of it. The version is the same in the Makefile, the programs and
# debian/changelog (the man pages' is checked by man_pages.sh).
source "$(dirname "$0")/../lib/common.sh"
T=$(td_tmpdir)
DEST=$T/dest
BUILD=${BUILD:-$ROOT/build}
mk=(make -C "$ROOT" --no-print-directory BIN="$BIN" BUILD="$BUILD" PREFIX=/usr DESTDIR="$DEST")
[ -n "${TAPEDECK_ASAN:-}" ] && mk+=(SANITIZE=address,undefined) # so a stale object is rebuilt alike

"${mk[@]}" install >"$T/install.log" 2>&1 || { cat "$T/install.log" >&2; td_fail "make install failed"; }

# The list a user (or a package) relies on, written out here rather than read from the Makefile.
want=()
for p in tapedeck-proxy tapedeck-replay tapedeck-capture tapedeck-replay-gate tapedeck-cutover; do
  want+=("usr/bin/$p 755" "usr/share/man/man1/$p.1 644")
done
for d in "$ROOT"/README.md "$ROOT"/docs/*.md; do want+=("usr/share/doc/tapedeck/${d##*/} 644"); done
want+=("usr/lib/systemd/system/tapedeck-proxy.service 644")
printf '%s\n' "${want[@]}" | sort >"$T/want"
(cd "$DEST" && find . -type f -printf '%P %m\n' | sort) >"$T/got"
diff -u "$T/want" "$T/got" >&2 || td_fail "make install laid out other files than expected (- missing, + extra)"

# The programs and the scripts run from where they were installed; the gate finds the installed replay
# (an empty file is no capture: the replay it runs says so, exit 2).
ver=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
for p in tapedeck-proxy tapedeck-replay tapedeck-capture tapedeck-replay-gate tapedeck-cutover; do
  out=$("$DEST/usr/bin/$p" --version 2>&1) || td_fail "installed $p --version failed: $out"
  [[ $out == *"$ver"* ]] || td_fail "installed $p --version says '$out', the Makefile's VERSION is $ver"
done
: >"$T/empty.warc.zst"
set +e
out=$(cd "$T" && env -i PATH="$DEST/usr/bin:/usr/bin:/bin" tapedeck-replay-gate "$T/empty.warc.zst" \
  --target http://127.0.0.1:9 --skip-load --out "$T/gate" 2>&1)
rc=$?
set -e
[ "$rc" = 2 ] || td_fail "installed tapedeck-replay-gate on an empty capture: exit $rc, expected 2: $out"
[[ $out != *"cannot find tapedeck-replay"* ]] || td_fail "installed tapedeck-replay-gate did not find tapedeck-replay on PATH: $out"
[[ $out == *"$DEST/usr/bin/tapedeck-replay check"* ]] || td_fail "installed tapedeck-replay-gate ran another tapedeck-replay: $out"
grep -q . "$T/gate/summary.txt" || td_fail "installed tapedeck-replay-gate wrote no summary: $out"

# man finds the installed pages by name, and they are the pages of the source tree.
for p in tapedeck-proxy tapedeck-replay tapedeck-capture tapedeck-replay-gate tapedeck-cutover; do
  f=$(MANPATH="$DEST/usr/share/man" man -w "$p" 2>&1) || td_fail "man -w $p finds no installed page: $f"
  [ "$f" = "$DEST/usr/share/man/man1/$p.1" ] || td_fail "man -w $p found '$f'"
  cmp -s "$f" "$ROOT/docs/man/$p.1" || td_fail "the installed $p.1 differs from docs/man/$p.1"
  w=$(MANPATH="$DEST/usr/share/man" LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings "$p" 2>&1 >/dev/null)
  [ -z "$w" ] || td_fail "man $p (installed) warns: $w"
done

# The unit starts the installed proxy and points at installed docs and tools.
unit=$DEST/usr/lib/systemd/system/tapedeck-proxy.service
grep -q '^ExecStart=/usr/bin/tapedeck-proxy ' "$unit" || td_fail "the unit does not start /usr/bin/tapedeck-proxy: $(grep ExecStart "$unit")"
! grep -q '/usr/local' "$unit" || td_fail "the unit installed under /usr still names /usr/local: $(grep -n /usr/local "$unit")"
grep -q '^Documentation=man:tapedeck-proxy(1)' "$unit" || td_fail "the unit's Documentation does not name the man page"

# The Debian package carries the same version.
dver=$(sed -n '1s/^tapedeck (\([^)]*\)).*/\1/p' "$ROOT/debian/changelog")
[ "$dver" = "$ver" ] || td_fail "debian/changelog is at '$dver', the Makefile's VERSION is $ver"

"${mk[@]}" uninstall >"$T/uninstall.log" 2>&1 || { cat "$T/uninstall.log" >&2; td_fail "make uninstall failed"; }
left=$(cd "$DEST" && find . -type f)
[ -z "$left" ] || td_fail "make uninstall left files behind: $left"
echo "ok: make install put ${#want[@]} files in place with their modes, they work from there; uninstall removed them"
