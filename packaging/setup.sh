#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (and CI):
#   packaging/setup.sh demo [--yes]   install what is missing, build, run the main job on the default data
#                                     (without ../shared it offers to fetch the data first; --yes: without asking)
#   packaging/setup.sh test   install what is missing, build with warnings as errors, run every test
set -euo pipefail
mode="${1:-}"
[ $# -gt 0 ] && shift
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

case "$mode" in
  demo|test) ;;
  *) echo "usage: $0 demo|test" >&2; exit 64 ;;
esac

bash packaging/install-deps.sh

preset=default
[ "$mode" = test ] && preset=ci
start=$(date +%s)
cmake --preset "$preset"
cmake --build --preset "$preset"
echo "setup: build took $(( $(date +%s) - start )) s"

if [ "$mode" = test ]; then
  # ctest -j2: the machine has 2 cores; GUI tests get their own Xvfb (xvfb-run -a).
  ctest --preset "$preset" -j2
else
  exec bash packaging/demo.sh "build" "$@"
fi
