#!/usr/bin/env bash
# Every C++ source follows .clang-format: prints the files that do not (fix: clang-format -i FILE).
set -u
src="$1"
command -v clang-format > /dev/null || { echo "FAIL: clang-format is not installed (packaging/install-deps.sh installs it)"; exit 1; }
cd "$src" || exit 1
mapfile -t files < <(find app core ui viz tests -name '*.cpp' -o -name '*.h' | sort)
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" > /dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "FAIL: ${#bad[@]} of ${#files[@]} files differ from .clang-format (run: clang-format -i ${bad[*]})"
  exit 1
fi
echo "${#files[@]} files follow .clang-format"
