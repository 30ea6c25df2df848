# Bash completion for tiercache (the tiercached command-line tool).
# Install: copy to /usr/share/bash-completion/completions/tiercache, or `source` it from ~/.bashrc.

_tiercache() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null 2>&1; then
    _init_completion || return
  else
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi

  local global="--server -s --token -t --redis --json -j --timeout --version -V --help -h"
  local commands="get set del ttl invalidate stats health ratelimit warm bench top"

  # The subcommand: the first word that is one.
  local command="" i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      --server|-s|--token|-t|--redis|--timeout) ((i++)) ;;
      get|set|del|ttl|invalidate|stats|health|ratelimit|warm|bench|top)
        command="${words[i]}"
        break
        ;;
    esac
  done

  # Values of options.
  case "$prev" in
    --server|-s)
      COMPREPLY=($(compgen -W "http://127.0.0.1:8080" -- "$cur"))
      return
      ;;
    --redis)
      COMPREPLY=($(compgen -W "redis://127.0.0.1:6379" -- "$cur"))
      return
      ;;
    --file|-f)
      COMPREPLY=($(compgen -f -- "$cur"))
      return
      ;;
    --priority)
      COMPREPLY=($(compgen -W "low normal high" -- "$cur"))
      return
      ;;
    --token|-t|--timeout|--ttl|--grace|--tag|--key|-k|--pattern|-p|--content-type|--cost|-c|\
    --batch|--namespace|-n|--concurrency|--requests|-r|--duration|-d|--keys|--value-size|\
    --read-ratio|--interval|-i)
      return
      ;;
  esac

  local flags=""
  case "$command" in
    "")
      COMPREPLY=($(compgen -W "$global $commands" -- "$cur"))
      return
      ;;
    get|del|ttl) flags="" ;;
    set) flags="--file -f --ttl --grace --tag --priority --content-type" ;;
    invalidate) flags="--key -k --tag --pattern -p --all" ;;
    stats|health) flags="" ;;
    ratelimit) flags="--key -k --cost -c --peek" ;;
    warm) flags="--file -f --batch" ;;
    bench)
      flags="--namespace -n --concurrency -c --requests -r --duration -d --keys --value-size"
      flags+=" --read-ratio --no-prefill --allow-remote"
      ;;
    top) flags="--interval -i --once" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags --help $global" -- "$cur"))
  fi
}
complete -F _tiercache tiercache
