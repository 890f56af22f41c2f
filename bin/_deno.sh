# Shared by the launchers in bin/: find the repository and a Deno 2.9.6 to run it with.
# Sourced, not executed, by a launcher that has set `self` (its $0, or its target when $0 is a
# link). Sets REPO and DENO (the absolute path of a deno executable, or the `deno` found on PATH);
# the launcher then `exec`s it, so the launcher's pid is Deno's and a signal to it reaches the
# program.
#
# Without deno on PATH or in npm's cache (below), `npx -y deno@2.9.6` is asked only for the
# binary's path (--prefer-offline: no registry round trip once it is cached), and is run from
# inside the repository with a PATH of system directories: npx prefers a `deno` package of its
# working directory's project and puts every parent's node_modules/.bin first in PATH, so run from
# the user's directory it could start planted programs, and its npm_* variables and PATH would
# reach the program and the shell. The program itself runs in the user's directory with the
# user's own environment.
# Each program started here costs a few ms of the client's start (bench/start_bench.ts): string
# operations on the launcher's path instead of dirname and cd, readlink only when the launcher or
# its directory is a link or its path has ".", ".." or empty parts, and PATH and deno's
# package.json read by the shell itself.
case $self in /*) ;; *) self=$PWD/$self ;; esac
case $self in
*//* | */./* | */../*) self=$(readlink -f "$self") ;;
*) if [ -L "$self" ] || [ -L "${self%/*}" ]; then self=$(readlink -f "$self"); fi ;;
esac
REPO=${self%/*/*}
export DENO_NO_UPDATE_CHECK=1
unset RUST_BACKTRACE
# A deno 2.9.6 that `npx -y deno@2.9.6` installed before, in npm's cache: run directly, it saves
# npm's own start (0.7-1.6 s) on every launch after the first. Only the package's own executable
# (an ELF file named `deno` beside its package.json) in the user's npm cache is taken.
# Shell builtins only, but for one `od`: every program started costs a few ms.
json_field() { # true if the line $1 has `"$2": "$3"` (any spaces after the colon)
  case $1 in *"\"$2\":"*) ;; *) return 1 ;; esac
  rest=${1#*"\"$2\":"}
  while case $rest in ' '*) true ;; *) false ;; esac; do rest=${rest# }; done
  case $rest in "\"$3\""*) return 0 ;; *) return 1 ;; esac
}
deno_package() { # true if $1 is the package.json of deno 2.9.6
  n=0 v=0
  while IFS= read -r line || [ -n "$line" ]; do
    if json_field "$line" name deno; then n=1; fi
    if json_field "$line" version 2.9.6; then v=1; fi
  done <"$1"
  [ "$n" = 1 ] && [ "$v" = 1 ]
}
cached_deno() { # sets DENO
  cache=${NPM_CONFIG_CACHE:-${npm_config_cache:-${HOME:-/nonexistent}/.npm}}
  for pkg in "$cache"/_npx/*/node_modules/deno/package.json; do
    [ -f "$pkg" ] || continue
    deno_package "$pkg" || continue
    bin=${pkg%/package.json}/deno
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    case $(od -An -tx1 -N4 "$bin") in *7f*45*4c*46*) ;; *) continue ;; esac
    DENO=$bin
    return 0
  done
  return 1
}
path_deno() { # sets DENO to the first executable `deno` in PATH's (non-empty) directories
  saved_ifs=$IFS
  IFS=:
  set -f
  for dir in $PATH; do
    if [ -n "$dir" ] && [ -f "$dir/deno" ] && [ -x "$dir/deno" ]; then
      DENO=$dir/deno
      break
    fi
  done
  set +f
  IFS=$saved_ifs
  [ -n "$DENO" ]
}
DENO=
if path_deno; then
  :
elif cached_deno; then
  :
else
  DENO=$(cd "$REPO" &&
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      npx --prefer-offline -y deno@2.9.6 eval --no-config 'console.log(Deno.execPath())' </dev/null)
  case "$DENO" in
    /*) [ -x "$DENO" ] || DENO="" ;;
    *) DENO="" ;;
  esac
  if [ -z "$DENO" ]; then
    echo "$(basename "$0"): deno is not on PATH and npx -y deno@2.9.6 did not provide it" >&2
    exit 1
  fi
fi
