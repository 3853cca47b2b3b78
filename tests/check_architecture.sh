#!/usr/bin/env bash
# Dependency rules CTest enforces: core/ knows no Qt, torch stays in core/model and
# core/train, and the GUI never loads Qt 5 (VTK's Qt module is Qt5-only in Debian).
set -u
src="$1"; gui="$2"; cli="${3:-}"
fail=0
if grep -rnE '^\s*#\s*include\s*[<"](Q[A-Za-z]+|Qt[A-Za-z]*/)' "$src/core"; then
  echo "FAIL: files under core/ include Qt headers (above)"; fail=1
fi
if grep -rnE '^\s*#\s*include\s*[<"](torch|ATen|c10)/' "$src/core" "$src/viz" "$src/ui" "$src/app" | grep -vE "^$src/core/(model|train)/"; then
  echo "FAIL: torch headers outside core/model and core/train (above)"; fail=1
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
