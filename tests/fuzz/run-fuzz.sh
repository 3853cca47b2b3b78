#!/usr/bin/env bash
# Fuzz a reader with libFuzzer (clang, libclang-rt-14-dev, AddressSanitizer + UBSan):
#   run-fuzz.sh [nifti|checkpoint|timeseries|config] [SECONDS (default 300)] [JOBS (default 1)]
# nifti: the NIfTI reader, seeded with the small real NIfTI files of the data path.
# checkpoint: the PyTorch checkpoint reader, seeded with small state dicts made by
# make-checkpoint-seeds.py (laid out as torch.save lays them out, _metadata included).
# timeseries: the ROI time-series reader, seeded with a few real ABIDE .1D files (cut short) and
# small CSV, TSV and .npy files; the first byte of an input picks the format.
# config: the tuning and pre-training configuration readers, seeded with resources/configs and
# each reader's defaults; the first byte picks the reader.
# Crashes land in build-fuzz/artifacts-TARGET/.
set -euo pipefail
target=nifti
if [[ "${1:-}" =~ ^(nifti|checkpoint|timeseries|config)$ ]]; then target="$1"; shift; fi
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
elif [ "$target" = timeseries ]; then
  python3 "$root/tests/fuzz/make-timeseries-seeds.py" "$corpus" "$data/data/abide1-cc200/rois_cc200"
  maxlen=65536
elif [ "$target" = config ]; then
  for f in "$root"/resources/configs/*.json; do
    case "$f" in *pretrain*) reader=1 ;; *) reader=0 ;; esac
    { printf "\\$(printf %o $reader)"; cat "$f"; } > "$corpus/$(basename "$f")"
  done
  printf '\000{"architecture": "lcm", "model": {"hidden": 32}, "adaptation": {"method": "finetune"}, "ensemble": 1}' > "$corpus/zoo.json"
  printf '\000{"input": {"kind": "tangent", "per_site": true}, "crop_augmentation": 0.5, "adaptation": {"method": "prompt", "prompt": "edge", "edge_readout": true}}' > "$corpus/tuning.json"
  printf '\001{"mask_ratio": [0.5, 0.2], "edge_drop": [0.1, 0.3], "crop_augmentation": 0.6, "contrastive_windows": true}' > "$corpus/pretrain.json"
  printf '\002{"epochs": 3, "momentum": 0.99, "model": {"layers": 2}}' > "$corpus/brainmass.json"
  printf '\003{"stage_one_fraction": 0.3, "sgd_momentum": 0.8}' > "$corpus/lcm.json"
  maxlen=4096
else
  python3 "$root/tests/fuzz/make-checkpoint-seeds.py" "$corpus"
  maxlen=65536
fi
"$build/fuzz_$target" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=$maxlen \
  -artifact_prefix="$build/artifacts-$target/" -print_final_stats=1 $([ "$jobs" -gt 1 ] && echo "-jobs=$jobs -workers=$jobs")
