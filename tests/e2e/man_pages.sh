#!/usr/bin/env bash
# e2e: the man pages (docs/man/*.1) keep up with the programs and render cleanly.
#  - every long option a --help lists (the program's and each of its commands', the commands read from the
#    help's command list) appears in the rendered page, as a word;
#  - the version in the page's .TH line is the one the program prints for --version;
#  - `groff -ww -z` and `man -l` (MANWIDTH=80) render each page without a warning.
source "$(dirname "$0")/../lib/common.sh"
for c in groff man; do command -v "$c" >/dev/null || td_fail "$c is missing (scripts/install-deps test installs it)"; done
MAN=$ROOT/docs/man
T=$(td_tmpdir)
problems=()

opts_of() { # long options in a help text, as docs_help.sh reads them; --help and --version are everywhere
  grep -oE '(^|[^[:alnum:]_-])--[a-z0-9][a-z0-9-]*' | sed 's/^[^-]*--/--/' | grep -vxE -- '--(help|version)' | sort -u
}
commands_of() { # the command names a top-level help lists, under a "commands:" heading
  awk 'tolower($0) ~ /^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1; next } on && !/^  / { on = 0 }'
}

checked=0
check_prog() { # page program-path [no-commands]
  local page=$1 prog=$2 rendered help cmd o opts want got
  [ -f "$MAN/$page" ] || { problems+=("$page is missing"); return 0; }
  # Rendered wide and in ASCII, so an option is one word on one line whatever the terminal.
  LC_ALL=C MANWIDTH=200 man -l "$MAN/$page" 2>/dev/null | col -bx >"$T/$page.txt"
  help=$("$prog" --help 2>&1) || { problems+=("$prog --help failed"); return 0; }
  for cmd in $(commands_of <<<"$help"); do
    help+=$'\n'$("$prog" "$cmd" --help 2>&1) || problems+=("'${prog##*/} $cmd --help' failed")
  done
  opts=$(opts_of <<<"$help" || true)
  while read -r o; do
    [ -n "$o" ] || continue
    checked=$((checked + 1))
    grep -qE -- "(^|[^[:alnum:]_-])${o}([^[:alnum:]_-]|\$)" "$T/$page.txt" || problems+=("$page: $o (in ${prog##*/}'s help)")
  done <<<"$opts"
  want=$("$prog" --version 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1)
  got=$(sed -n 's/^\.TH .*"tapedeck \([0-9.]*\)".*/\1/p' "$MAN/$page")
  [ "$want" = "$got" ] || problems+=("$page: .TH says version '$got', ${prog##*/} --version says '$want'")
}

check_prog tapedeck-proxy.1 "$BIN/tapedeck-proxy"
check_prog tapedeck-replay.1 "$BIN/tapedeck-replay"
check_prog tapedeck-capture.1 "$BIN/tapedeck-capture"
check_prog tapedeck-replay-gate.1 "$ROOT/scripts/replay-gate"
check_prog tapedeck-cutover.1 "$ROOT/scripts/cutover"

# A page for every installed program and no page without one: the list is the Makefile's.
pages=$(cd "$MAN" && ls ./*.1 | sed 's|^\./||' | sort | tr '\n' ' ')
[ "$pages" = "tapedeck-capture.1 tapedeck-cutover.1 tapedeck-proxy.1 tapedeck-replay-gate.1 tapedeck-replay.1 " ] ||
  problems+=("docs/man holds '$pages'; this test knows five pages: add a check_prog line for a new one")

for f in "$MAN"/*.1; do
  w=$(groff -ww -z -man "$f" 2>&1) || problems+=("groff -ww fails on ${f##*/}")
  [ -z "$w" ] || problems+=("groff -ww on ${f##*/}: $w")
  w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
  [ -z "$w" ] || problems+=("man -l ${f##*/}: $w")
  # The page must say something: NAME, SYNOPSIS, OPTIONS (or COMMANDS), EXIT STATUS, SEE ALSO.
  for s in NAME SYNOPSIS "EXIT STATUS" "SEE ALSO"; do
    grep -q "^\.SH \"\{0,1\}$s" "$f" || problems+=("${f##*/} has no $s section")
  done
done

if ((${#problems[@]})); then
  printf 'man pages: %s\n' "${problems[@]}" >&2
  td_fail "${#problems[@]} problem(s) with the man pages"
fi
echo "ok: $checked options found in the man pages; every page renders without warnings"
