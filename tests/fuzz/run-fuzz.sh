#!/usr/bin/env bash
# Fuzz a reader with libFuzzer (clang, libclang-rt-14-dev, AddressSanitizer + UBSan):
#   run-fuzz.sh [nifti|checkpoint] [SECONDS (default 300)] [JOBS (default 1)]
# nifti: the NIfTI reader, seeded with the small real NIfTI files of the data path.
# checkpoint: the PyTorch checkpoint reader, seeded with small state dicts made by
# make-checkpoint-seeds.py (laid out as torch.save lays them out, _metadata included).
# Crashes land in build-fuzz/artifacts-TARGET/.
set -euo pipefail
target=nifti
if [[ "${1:-}" =~ ^(nifti|checkpoint)$ ]]; then target="$1"; shift; fi
seconds="${1:-300}"
jobs="${2:-1}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
data="${BRAINGRAPH_DATA:-$root/../shared}"
build="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build" --target "fuzz_$target"
corpus="$build/corpus-$target"
mkdir -p "$corpus" "$build/artifacts-$target"
if [ "$target" = nifti ]; then
  for f in "$data"/data/nifti-samples/*.nii*; do
    [ "$(stat -c %s "$f")" -lt 400000 ] && cp -n "$f" "$corpus/" || true
  done
  # A truncated variant gives the fuzzer more paths to start from.
  head -c 2000 "$data/data/nifti-samples/functional.nii" > "$corpus/truncated.nii"
  maxlen=200000
else
  python3 "$root/tests/fuzz/make-checkpoint-seeds.py" "$corpus"
  maxlen=65536
fi
"$build/fuzz_$target" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=$maxlen \
  -artifact_prefix="$build/artifacts-$target/" -print_final_stats=1 $([ "$jobs" -gt 1 ] && echo "-jobs=$jobs -workers=$jobs")
