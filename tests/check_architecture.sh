#!/usr/bin/env bash
# Dependency rules CTest enforces: core/ knows no Qt, torch stays in core/model and
# core/train, core's folders follow the layer table below, and the GUI never loads Qt 5 (VTK's Qt
# module is Qt5-only in Debian).
set -u
src="$1"; gui="$2"; cli="${3:-}"
fail=0
if grep -rnE '^\s*#\s*include\s*[<"](Q[A-Za-z]+|Qt[A-Za-z]*/)' "$src/core"; then
  echo "FAIL: files under core/ include Qt headers (above)"; fail=1
fi
if grep -rnE '^\s*#\s*include\s*[<"](torch|ATen|c10)/' "$src/core" "$src/viz" "$src/ui" "$src/app" | grep -vE "^$src/core/(model|train)/"; then
  echo "FAIL: torch headers outside core/model and core/train (above)"; fail=1
fi
# Layers inside core: each folder includes only the folders listed for it, all of them above it in
# this table (so there is no cycle). Lowest first.
layers='
platform:
errors:
methods: errors
io: errors platform
jobs: errors
settings: errors io platform
log: settings errors io platform
signal: errors io platform
fetch: errors io jobs platform settings
atlas: errors io jobs platform settings
connectome: atlas errors io jobs platform settings signal
workspace: atlas connectome errors io jobs methods platform settings
model: errors io jobs methods platform settings
eval: atlas connectome errors io jobs methods model platform settings signal workspace
report: atlas connectome errors eval io jobs methods model platform settings signal workspace
train: atlas connectome errors eval io jobs methods model platform report settings signal workspace
'
declare -A allowed
seen=" "
while IFS=: read -r folder deps; do
  [ -z "$folder" ] && continue
  for d in $deps; do
    case "$seen" in *" $d "*) ;; *) echo "FAIL: layer table: $folder uses $d, which is not above it"; fail=1 ;; esac
  done
  allowed[$folder]=" $deps "
  seen="$seen$folder "
done <<< "$layers"
for dir in "$src"/core/*/; do
  folder=$(basename "$dir")
  [ -z "${allowed[$folder]+x}" ] && { echo "FAIL: core/$folder is not in the layer table (tests/check_architecture.sh)"; fail=1; continue; }
  while IFS= read -r hit; do
    used=$(echo "$hit" | sed -E 's/.*#\s*include\s*"([a-z]+)\/.*/\1/')
    [ "$used" = "$folder" ] && continue
    case "${allowed[$folder]}" in *" $used "*) ;; *) echo "FAIL: core/$folder may not include core/$used: $hit"; fail=1 ;; esac
  done < <(grep -nHE '^\s*#\s*include\s*"[a-z]+/' "$dir"* 2>/dev/null)
done
# SQL lives in core/workspace, behind its stores (ReportStore, EvaluationStore, RunTracking, ...).
if grep -rnE 'SQLite::|SQLiteCpp/|[.>]db\(\)' "$src/core" "$src/ui" "$src/app" "$src/viz" --include=*.cpp --include=*.h | grep -v "^$src/core/workspace/"; then
  echo "FAIL: SQL outside core/workspace (above): add a store function there"; fail=1
fi
if [ -n "$gui" ]; then
  if ! libs=$(ldd "$gui"); then echo "FAIL: ldd $gui"; exit 1; fi
  if echo "$libs" | grep -E 'libQt5'; then echo "FAIL: $gui loads Qt 5 libraries (above)"; fail=1; fi
  if echo "$libs" | grep -E 'libtorch|libopencv'; then echo "FAIL: $gui loads LibTorch/OpenCV, which bring Qt 5 (above)"; fail=1; fi
  echo "$libs" | grep -q 'libQt6Widgets' || { echo "FAIL: $gui does not link Qt 6 Widgets"; fail=1; }
fi
if [ -n "$cli" ]; then
  # LibTorch is loaded on demand (model/ModelBackend.h): commands without models start fast.
  if ldd "$cli" | grep -E 'libtorch|libopencv'; then echo "FAIL: $cli links LibTorch directly (above)"; fail=1; fi
  # The model library it loads brings Qt 5 (through OpenCV): the CLI itself must hold no Qt at all.
  if ldd "$cli" | grep -E 'libQt'; then echo "FAIL: $cli links Qt (above); PDF rendering belongs in braingraph-report"; fail=1; fi
fi
[ $fail -eq 0 ] && echo "architecture rules hold"
exit $fail
