# Shared by the launchers in bin/: find the repository and a Deno 2.9.6 to run it with.
# Sourced, not executed, by a launcher that has set `self` (its own path, links resolved). Sets
# REPO and DENO (the absolute path of a deno executable, or the `deno` found on PATH); the launcher then `exec`s it, so the launcher's pid is Deno's and a
# signal to it reaches the program.
#
# Without deno on PATH or in npm's cache (below), `npx -y deno@2.9.6` is asked only for the
# binary's path (--prefer-offline: no registry round trip once it is cached), and is run from
# inside the repository with a PATH of system directories: npx prefers a `deno` package of its
# working directory's project and puts every parent's node_modules/.bin first in PATH, so run from
# the user's directory it could start planted programs, and its npm_* variables and PATH would
# reach the program and the shell. The program itself runs in the user's directory with the
# user's own environment.
# Each program started here costs a few ms of the client's start (bench/start_bench.ts): string
# operations on the resolved path instead of dirname and cd.
REPO=${self%/*/*}
export DENO_NO_UPDATE_CHECK=1
unset RUST_BACKTRACE
# A deno 2.9.6 that `npx -y deno@2.9.6` installed before, in npm's cache: run directly, it saves
# npm's own start (0.7-1.6 s) on every launch after the first. Only the package's own executable
# (an ELF file named `deno` beside its package.json) in the user's npm cache is taken.
cached_deno() {
  cache=${NPM_CONFIG_CACHE:-${npm_config_cache:-${HOME:-/nonexistent}/.npm}}
  for pkg in "$cache"/_npx/*/node_modules/deno/package.json; do
    [ -f "$pkg" ] || continue
    awk '/"name": *"deno"/ { n = 1 } /"version": *"2\.9\.6"/ { v = 1 } END { exit !(n && v) }' \
      "$pkg" || continue
    bin=${pkg%/package.json}/deno
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    case $(od -An -tx1 -N4 "$bin") in *7f*45*4c*46*) ;; *) continue ;; esac
    echo "$bin"
    return 0
  done
  return 1
}
if DENO=$(command -v deno 2>/dev/null) && [ -n "$DENO" ]; then
  :
elif DENO=$(cached_deno); then
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
