#!/usr/bin/env bash
# check-layers.sh: includes point only downward (DESIGN.md). A file in layer L may include
# tiercache/<M>/... only when M is L or a layer below it. Prints each violation; exit 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
layers=(base resp redis cache ratelimit resilience metrics health calendar server cli)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && echo "$i" && return; done; echo -1; }
# cache, ratelimit, resilience and metrics stand side by side: none includes another.
peers="cache ratelimit resilience metrics"
status=0
while IFS= read -r file; do
  layer=$(echo "$file" | sed -E 's#^(include/tiercache|src)/([a-z]+)/.*#\2#')
  [ "$(rank "$layer")" -ge 0 ] || continue
  while IFS= read -r included; do
    [ "$included" = "$layer" ] && continue
    r_file=$(rank "$layer"); r_inc=$(rank "$included")
    if [ "$r_inc" -lt 0 ] || [ "$r_inc" -gt "$r_file" ] ||
       { [[ " $peers " == *" $layer "* ]] && [[ " $peers " == *" $included "* ]]; }; then
      echo "$file: includes tiercache/$included/ from layer $layer (includes point only downward)"
      status=1
    fi
  done < <(grep -oE '#include "tiercache/[a-z]+/' "$file" | sed -E 's#.*tiercache/([a-z]+)/#\1#' | sort -u)
done < <(git ls-files -co --exclude-standard -- 'include/tiercache/*/*' 'src/*/*')
exit $status
