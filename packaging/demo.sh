#!/usr/bin/env bash
# The main job: what a newcomer sees first. With a display it opens the workbench;
# without one it runs the same steps headless through braingraph-cli.
#   packaging/demo.sh [BUILD_DIR] [--yes]
# Without a data folder (no ../shared, no BRAINGRAPH_DATA) it offers to fetch the atlases and the
# ABIDE I CC200 series into the user data folder first; --yes (or BRAINGRAPH_YES=1) does so without
# asking. BRAINGRAPH_DATA_MIRROR fetches from a copy of the servers; BRAINGRAPH_DEMO_MAX_SCANS fetches
# only that many scans (a quick look, and the test that runs this script without ../shared).
set -euo pipefail
build="${1:-build}"
[ $# -gt 0 ] && shift
yes="${BRAINGRAPH_YES:-0}"
for arg in "$@"; do
  case "$arg" in
    --yes|-y) yes=1 ;;
    *) echo "usage: $0 [BUILD_DIR] [--yes]" >&2; exit 64 ;;
  esac
done
# Qt wants a private runtime folder; CI and fresh shells may not have one.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then export XDG_RUNTIME_DIR="/tmp/runtime-$(id -u)"; mkdir -p -m 700 "$XDG_RUNTIME_DIR"; fi
cli="$build/app/braingraph-cli"
gui="$build/app/braingraph"

data="${BRAINGRAPH_DATA:-$(cd "$(dirname "$0")/.." && pwd)/../shared}"
fetched="${XDG_DATA_HOME:-$HOME/.local/share}/braingraph/data"  # the user data folder: it joins the data path
if [ ! -f "$data/data/abide1-cc200/Phenotypic_V1_0b_preprocessed1.csv" ]; then
  if [ ! -f "$fetched/data/abide1-cc200/Phenotypic_V1_0b_preprocessed1.csv" ]; then
    echo "== No data folder at $data. The demo needs the atlases (about 10 MB) and the ABIDE I CC200 time series"
    echo "   (about 250 MB to download, 117 MB kept; ABIDE: non-commercial research use), from their official"
    echo "   sources into $fetched."
    if [ "$yes" != 1 ]; then
      if [ -t 0 ]; then
        read -r -p "   Download them now? [y/N] " answer
        case "$answer" in y|Y|yes) ;; *) echo "Nothing downloaded. Point BRAINGRAPH_DATA at a data folder, or run again with --yes." >&2; exit 1 ;; esac
      else
        echo "Nothing downloaded: run again with --yes to download, or point BRAINGRAPH_DATA at a data folder." >&2
        exit 1
      fi
    fi
    "$cli" data fetch atlases
    "$cli" data fetch abide --atlas cc200 ${BRAINGRAPH_DEMO_MAX_SCANS:+--max-scans "$BRAINGRAPH_DEMO_MAX_SCANS"}
  fi
  data="$fetched"
fi

echo "== BrainGraph Workbench demo (data: $data)"
"$cli" info
echo "== Atlases, ROI counts verified against their files"
# From a fresh fetch, atlases whose derived label tables have no download are listed as missing: the
# demo itself needs only CC200.
"$cli" atlas list || { [ "$data" = "$fetched" ] && echo "(the atlases marked above need files 'data fetch' could not download; the demo uses CC200)"; }
scan="$data/data/abide1-cc200/rois_cc200/CMU_a_0050642_rois_cc200.1D.gz"
if [ -f "$scan" ]; then
  echo "== A real ABIDE scan (CC200 time series) to a brain graph: $build/demo-graph"
  "$cli" timeseries2graph --in "$scan" --id cc200 --tr 2.0 --labels "$data/data/abide1-cc200/atlas/CC200.nii.gz" \
    --out "$build/demo-graph"
fi

ws="$build/demo-workspace"
pheno="$data/data/abide1-cc200/Phenotypic_V1_0b_preprocessed1.csv"
if [ -f "$pheno" ]; then
  echo "== Demo workspace $ws: ABIDE I (the 739 scans, or those fetched) imported, connectomes derived, an autism-vs-control corpus"
  [ -f "$ws/workspace.sqlite" ] || "$cli" workspace init -w "$ws"
  "$cli" import abide -w "$ws" --pheno "$pheno" --timeseries "$data/data/abide1-cc200/rois_cc200"
  "$cli" derive -w "$ws" --no-bandpass
  # The scan the demo diagnoses below stays out of the training corpus: a model shown a scan it
  # learned from says so, and the demo should show an independent result.
  heldout="$(basename "$scan" _rois_cc200.1D.gz)"
  "$cli" corpus list -w "$ws" | grep -qx abide-asd-demo ||
    "$cli" corpus create -w "$ws" --name abide-asd-demo --class control --class autism --split kfold --folds 10 --seed 0 \
      --where "FILE_ID!=$heldout"
  "$cli" workspace info -w "$ws"

  configs="$(cd "$(dirname "$0")/.." && pwd)/resources/configs"
  echo "== Models ready to use: the logistic-regression baseline and a small BrainGFM (pre-trained, prompt-tuned)"
  { [ -f "$build/demo-logreg.json" ] && grep -q "cross_fit_folds" "$build/demo-logreg.json"; } ||
    "$cli" train -w "$ws" --corpus abide-asd-demo --method logreg --out "$build/demo-logreg.json"
  if ! { [ -f "$build/demo-braingfm.pt" ] && "$cli" --quiet model "$build/demo-braingfm.pt" | grep -q '"deployment"'; }; then
    [ -f "$build/demo-pretrained.pt" ] ||
      "$cli" pretrain -w "$ws" --corpus abide-asd-demo --all-items --config "$configs/demo-pretrain.json" --out "$build/demo-pretrained.pt"
    "$cli" train -w "$ws" --corpus abide-asd-demo --method prompt --pretrained "$build/demo-pretrained.pt" \
      --config "$configs/demo-braingfm.json" --out "$build/demo-braingfm.pt"
  fi
  if [ -f "$scan" ]; then
    echo "== Predicting the real scan above (held out of the training corpus) with both models (add --json for everything)"
    "$cli" predict --model "$build/demo-logreg.json" --in "$scan"
    "$cli" predict --model "$build/demo-braingfm.pt" --in "$scan"
    echo "== Diagnosis of the same scan: quality control, prediction with uncertainty and out-of-distribution check,"
    echo "   explanation, recorded in the workspace, as a PDF report: $build/demo-report.pdf"
    "$cli" diagnose -w "$ws" --model "$build/demo-logreg.json" --in "$scan" --tr 2.0 --operator demo --out "$build/demo-report.pdf"
    "$cli" diagnose -w "$ws" --model "$build/demo-braingfm.pt" --in "$scan" --tr 2.0 --operator demo --out "$build/demo-report-braingfm.pdf"
  fi
fi

if [ -n "${DISPLAY:-}" ] && [ -x "$gui" ]; then
  echo "== Opening the workbench on $ws (select a scan: its matrix and 3D connectome; Tools > Diagnosis Wizard for a signed PDF report)"
  exec "$gui" --workspace "$ws"
fi
echo "== No display: rendering the workbench offscreen (Xvfb): its 3D view to $build/demo-3d.png, the whole window to $build/demo-workbench.png"
if command -v xvfb-run >/dev/null; then
  xvfb-run -a -s "-screen 0 1600x1000x24" "$gui" --quiet --workspace "$ws" --screenshot "$build/demo-3d.png"
  echo "wrote $build/demo-3d.png"
  xvfb-run -a -s "-screen 0 1600x1000x24" "$gui" --quiet --workspace "$ws" --screenshot-window "$build/demo-workbench.png"
  echo "wrote $build/demo-workbench.png (the whole workbench: atlases verified, the first scan's connectome)"
fi
