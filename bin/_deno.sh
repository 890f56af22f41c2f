# Shared by the launchers in bin/: find the repository and a Deno 2.9.6 to run it with.
# Sourced, not executed. Sets REPO and DENO (a command line prefix).
self=$(readlink -f "$0")
REPO=$(cd "$(dirname "$self")/.." && pwd)
export DENO_NO_UPDATE_CHECK=1
unset RUST_BACKTRACE
if command -v deno >/dev/null 2>&1; then
  DENO="deno"
else
  DENO="npx -y deno@2.9.6"
fi
