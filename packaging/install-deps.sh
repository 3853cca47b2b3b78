#!/usr/bin/env bash
# Installs the Debian 12 packages BrainGraph Workbench builds, tests and runs with.
# Idempotent: only packages that are missing are installed. Works as root or through sudo.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # GUI: Qt 6 (Widgets, OpenGLWidgets, Sql, Test, PrintSupport, Concurrent), Charts, SQLite driver
  qt6-base-dev libqt6opengl6-dev qt6-charts-dev libqt6sql6-sqlite libgl-dev
  # 3D views (VTK's Qt module is Qt5-only in Debian: we never install or link it)
  libvtk9-dev
  # image resampling
  libinsighttoolkit5-dev libgdcm-tools  # the tools only silence ITK config warnings about missing gdcm binaries
  # models
  libtorch-dev libopenblas0-pthread liblapack-dev libgloo-dev  # gloo headers: c10d data-parallel training on CPUs
  # numerics, I/O, logging, storage
  libeigen3-dev libboost-dev libnifti2-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libsqlite3-dev libsqlitecpp-dev libxxhash-dev libdeflate-dev libisal-dev zlib1g-dev
  libminizip-dev libssl-dev  # PyTorch checkpoints (zip) and SHA-256 of imported files
  libcurl4-openssl-dev python3  # data fetch (HTTPS); its tests serve a local mirror with python3
  # tests, screenshots, PDF checks
  xvfb xauth libgl1-mesa-dri mesa-utils poppler-utils fonts-dejavu-core
  # fuzzing (clang + libFuzzer runtime); the source style check (.clang-format)
  clang libclang-rt-14-dev clang-format
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi

echo "install-deps: installing ${#missing[@]} missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
