#!/usr/bin/env bash
# Fuzz the NIfTI reader for SECONDS (default 300) with libFuzzer (clang, libclang-rt-14-dev).
# Seeds: the small real NIfTI files of the data path. Crashes land in build-fuzz/artifacts/.
set -euo pipefail
seconds="${1:-300}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
data="${BRAINGRAPH_DATA:-$root/../shared}"
build="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build"
mkdir -p "$build/corpus" "$build/artifacts"
for f in "$data"/data/nifti-samples/*.nii*; do
  [ "$(stat -c %s "$f")" -lt 400000 ] && cp -n "$f" "$build/corpus/" || true
done
# A truncated and a byte-swapped variant give the fuzzer more paths to start from.
head -c 2000 "$data/data/nifti-samples/functional.nii" > "$build/corpus/truncated.nii"
"$build/fuzz_nifti" "$build/corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=200000 \
  -artifact_prefix="$build/artifacts/" -print_final_stats=1
