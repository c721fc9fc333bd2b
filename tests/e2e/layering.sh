#!/usr/bin/env bash
# e2e: design.md's dependency rule as a check. Every #include "x.h" in the product code is resolved to the
# room (folder) that holds x.h, and the edge room -> room must be in the allowed order below; so must the
# libraries a room links against (http-parser only in captures/http, libcurl only in replay/engine).
# A new room has to be added here on purpose. The rooms and their order are explained in docs/internals.md.
source "$(dirname "$0")/../lib/common.sh"
cd "$ROOT"

# room: the rooms it may include from (itself always).
declare -A ALLOW=(
  [captures/util]=""
  [captures/http]="captures/util"
  [captures/json]="captures/util"
  [captures]="captures/util captures/http"
  [captures/redact]="captures captures/util captures/http captures/json"
  [captures/cli]="captures captures/util captures/http captures/json captures/redact"
  [proxy/base]="captures captures/util captures/http captures/json captures/redact"
  [proxy/record]="proxy/base captures captures/util captures/http captures/json captures/redact"
  [proxy/mirror]="proxy/record proxy/base captures captures/util captures/http captures/json captures/redact"
  [proxy/conn]="proxy/mirror proxy/record proxy/base captures captures/util captures/http captures/json captures/redact"
  [proxy/h2]="proxy/conn proxy/record proxy/base captures captures/util captures/http captures/json captures/redact"
  [proxy]="proxy/h2 proxy/conn proxy/mirror proxy/record proxy/base captures captures/util captures/http captures/json captures/redact"
  [replay/stats]="captures captures/util captures/http captures/json"
  [replay/engine]="captures captures/util captures/http"
  [replay/report]="replay/stats captures captures/util captures/http captures/json"
  [replay/check]="replay/engine replay/stats replay/report captures captures/util captures/http captures/json"
  [replay/load]="replay/engine replay/stats replay/report captures captures/util captures/http captures/json"
  [replay/shadow]="replay/check replay/stats replay/report captures captures/util captures/http captures/json"
  [replay]="replay/check replay/shadow replay/load replay/report captures captures/util captures/http"
)

declare -A HOME_OF=() # header basename -> room
dup=()
while read -r h; do
  b=${h##*/} d=${h%/*}
  [ -n "${HOME_OF[$b]:-}" ] && dup+=("$b: ${HOME_OF[$b]} and $d")
  HOME_OF[$b]=$d
done < <(find captures proxy replay -name '*.h' | sort)
# Basenames must be unique: the Makefile puts every room on the include path.
[ ${#dup[@]} -eq 0 ] || td_fail "header basenames must be unique across rooms: ${dup[*]}"
# ...and must not shadow a system header, since -I is searched for <...> too (replay's sched.h once did).
for b in "${!HOME_OF[@]}"; do
  [ -e "/usr/include/$b" ] && td_fail "${HOME_OF[$b]}/$b shadows the system header <$b>"
done

bad=() edges=0
while read -r f; do
  room=${f%/*}
  [ -n "${ALLOW[$room]+set}" ] || { bad+=("$f: room $room is not in the layering table"); continue; }
  while read -r inc; do
    [ -n "$inc" ] || continue
    b=${inc##*/}
    to=${HOME_OF[$b]:-}
    [ -n "$to" ] || { bad+=("$f includes \"$inc\", which is no header of the tree"); continue; }
    edges=$((edges + 1))
    [ "$to" = "$room" ] && continue
    case " ${ALLOW[$room]} " in
      *" $to "*) ;;
      *) bad+=("$f ($room) includes $b from $to") ;;
    esac
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
  # Third-party libraries stay behind their one module.
  if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<http_parser\.h>' "$f" && [ "$room" != captures/http ]; then
    bad+=("$f includes <http_parser.h>: all HTTP/1.x parsing goes through captures/http")
  fi
  if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<curl/' "$f" && [ "$room" != replay/engine ]; then
    bad+=("$f includes libcurl: only replay/engine talks to libcurl")
  fi
done < <(find captures proxy replay -name '*.[ch]' | sort)

[ "$edges" -gt 100 ] || td_fail "only $edges include edges found: the scan is broken"
if [ ${#bad[@]} -gt 0 ]; then
  printf '%s\n' "${bad[@]}"
  td_fail "${#bad[@]} include(s) outside the allowed order"
fi
echo "layering: $edges include edges, all within the allowed order"
