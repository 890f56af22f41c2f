# Shared by the launchers in bin/: find the repository and a Deno 2.9.6 to run it with.
# Sourced, not executed. Sets REPO and DENO (the absolute path of a deno executable, or the
# `deno` found on PATH); the launcher then `exec`s it, so the launcher's pid is Deno's and a
# signal to it reaches the program.
#
# Without deno on PATH, `npx -y deno@2.9.6` is asked only for the binary's path (--prefer-offline:
# no registry round trip once it is cached), and is run from inside the repository with a PATH of
# system directories: npx prefers a `deno` package of its working directory's project and puts
# every parent's node_modules/.bin first in PATH, so run from the user's directory it could start
# planted programs, and its npm_* variables and PATH would reach the program and the shell. The
# program itself runs in the user's directory with the user's own environment.
self=$(readlink -f "$0")
REPO=$(cd "$(dirname "$self")/.." && pwd)
export DENO_NO_UPDATE_CHECK=1
unset RUST_BACKTRACE
if DENO=$(command -v deno 2>/dev/null) && [ -n "$DENO" ]; then
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
