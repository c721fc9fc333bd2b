#!/usr/bin/env bash
# e2e: each binary's reference page in docs/ keeps up with its --help. Every long option that a --help
# lists (the binary's, and each subcommand's) must appear in the page: a user reading the docs sees every
# option the binary offers. A binary whose --help fails is not implemented yet and is skipped (said so).
source "$(dirname "$0")/../lib/common.sh"

# Long options in a help text: --name at a word start, lower-case letters, digits and dashes. --help and
# --version are everywhere (design.md) and need no line in each page.
opts_of() {
  grep -oE '(^|[^[:alnum:]_-])--[a-z0-9][a-z0-9-]*' | sed 's/^[^-]*--/--/' | grep -vxE -- '--(help|version)' | sort -u
}

checked=0 skipped=0 missing=()
check_page() { # page, help-command...
  local page=$1 help o opts cmd; shift
  cmd="${1##*/} ${*:2}"
  if ! help=$("$@" 2>&1); then
    echo "skipped: '$cmd' fails (not implemented yet)"
    skipped=$((skipped + 1)); return 0
  fi
  opts=$(opts_of <<<"$help" || true)
  [ -n "$opts" ] || return 0 # a command list only (e.g. 'tapedeck-replay --help'): nothing to document
  [ -f "$ROOT/$page" ] || { missing+=("$page (the page itself; '$cmd' lists options)"); return 0; }
  while read -r o; do
    checked=$((checked + 1))
    # The option as a word: "--max-body" must not be satisfied by "--max-body-size".
    grep -qE -- "(^|[^[:alnum:]_-])${o}([^[:alnum:]_-]|\$)" "$ROOT/$page" || missing+=("$page: $o (listed by '$cmd')")
  done <<<"$opts"
}

check_page docs/tapedeck-proxy.md "$BIN/tapedeck-proxy" --help
check_page docs/tapedeck-replay.md "$BIN/tapedeck-replay" --help
for sub in check load report; do
  check_page docs/tapedeck-replay.md "$BIN/tapedeck-replay" "$sub" --help
done
check_page docs/tapedeck-capture.md "$BIN/tapedeck-capture" --help
for sub in cat ls show stats verify filter merge import export; do
  check_page docs/tapedeck-capture.md "$BIN/tapedeck-capture" "$sub" --help
done
# The pipeline scripts have pages of their own too.
check_page docs/pipeline.md "$ROOT/scripts/replay-gate" --help
check_page docs/pipeline.md "$ROOT/scripts/cutover" --help

if ((${#missing[@]})); then
  printf 'missing from the docs: %s\n' "${missing[@]}" >&2
  td_fail "${#missing[@]} option(s) or page(s) missing from docs/"
fi
echo "ok: $checked documented options checked ($skipped help commands skipped)"
