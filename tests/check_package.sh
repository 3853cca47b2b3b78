#!/usr/bin/env bash
# The install test of issue 11: build the Debian package, unpack it into a fresh root (debootstrap
# needs the network, which CI lacks), check every binary's libraries resolve, then run the installed
# CLI: --version, a headless connectome from a real NIfTI, the man page and the desktop entry.
# Usage: check_package.sh BUILD_DIR DATA_ROOT MAKE_SYNTHETIC_BOLD
set -euo pipefail
build="$1"; data="$2"; synth="$3"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$build" && cpack -G DEB -B "$work/pkg" >/dev/null)
deb="$(ls "$work"/pkg/braingraph_*.deb)"
echo "package: $(basename "$deb") ($(du -h "$deb" | cut -f1))"
depends="$(dpkg-deb -f "$deb" Depends)"
for dep in libqt6gui6 libtorch1.13 libvtk9.1 libinsighttoolkit5.2 libnifti2-2 qt6-qpa-plugins; do
  case "$depends" in *"$dep"*) ;; *) echo "FAIL: Depends lacks $dep: $depends"; exit 1;; esac
done
root="$work/root"
dpkg-deb -x "$deb" "$root"
for f in bin/braingraph bin/braingraph-cli bin/braingraph-report lib/braingraph/libbraingraph-model.so \
         share/applications/braingraph.desktop share/man/man1/braingraph-cli.1.gz share/man/man1/braingraph.1.gz \
         share/icons/hicolor/scalable/apps/braingraph.svg share/doc/braingraph/user-guide.md \
         share/braingraph/atlases/schaefer100/manifest.json share/braingraph/resources/text/tasks.tsv; do
  [ -e "$root/usr/$f" ] || { echo "FAIL: the package lacks /usr/$f"; exit 1; }
done
for elf in "$root"/usr/bin/* "$root"/usr/lib/braingraph/*.so; do
  if ldd "$elf" | grep -q "not found"; then echo "FAIL: $elf:"; ldd "$elf" | grep "not found"; exit 1; fi
done
echo "libraries of every binary resolve"
cli="$root/usr/bin/braingraph-cli"
version="$("$cli" --version)"
[ "$version" = "braingraph-cli $(dpkg-deb -f "$deb" Version)" ] || { echo "FAIL: --version says '$version'"; exit 1; }
echo "$version"
# Installed manifests and model library, not the build tree's: point the build tree's away.
export BRAINGRAPH_MODEL_LIBRARY=""
# The sample NIfTI files are too short or not in MNI space: a synthetic scan on the Schaefer100 grid.
bold="$work/sub-01_bold.nii.gz"
"$synth" "$data/atlases/schaefer100/tpl-MNI152NLin6Asym_res-02_atlas-Schaefer2018_desc-100Parcels7Networks_dseg.nii.gz" "$bold" 60 2.0
out="$work/connectome"
"$cli" --quiet --no-progress --data "$data" connectome --bold "$bold" --atlas schaefer100 --out "$out"
[ -s "$out/schaefer100_fc.npy" ] && [ -s "$out/schaefer100_qc.json" ] || { echo "FAIL: no connectome outputs"; exit 1; }
grep -q '"roi_count": 100' "$out/schaefer100_qc.json" || { echo "FAIL: schaefer100 QC lacks 100 ROIs"; exit 1; }
echo "headless connectome from the installed files: ok"
info_json=$("$cli" --data "$data" info --json || true)
grep -q '"LibTorch"' <<<"$info_json" || { echo "FAIL: the installed CLI cannot load its model library"; exit 1; }
# Read whole before grep: grep -q leaving early would SIGPIPE zcat, which pipefail reports as a failure.
man_text=$(zcat "$root/usr/share/man/man1/braingraph-cli.1.gz")
grep -q '^\.SS diagnose' <<<"$man_text" || { echo "FAIL: the man page lacks diagnose"; exit 1; }
man -l "$root/usr/share/man/man1/braingraph-cli.1.gz" >/dev/null 2>&1 || { echo "FAIL: man cannot render braingraph-cli.1"; exit 1; }
grep -q '^Exec=braingraph$' "$root/usr/share/applications/braingraph.desktop"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$root/usr/share/applications/braingraph.desktop"; fi
echo "package ok"
