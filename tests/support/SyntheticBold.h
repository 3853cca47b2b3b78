#pragma once
// Realistic synthetic BOLD volumes for tests and benchmarks: every voxel of a label
// volume carries its ROI's signal plus independent noise; the loading code that reads
// them back is the real one.
#include <cstdint>
#include <filesystem>
#include <vector>

#include <Eigen/Core>

#include "io/NiftiImage.h"

namespace bgtest {

struct SyntheticBold {
  bg::NiftiHeader header;            // grid of the label volume, T volumes, TR
  Eigen::MatrixXd roiSignals;        // T x labels (column l-1 for label l), before noise
  std::vector<std::int32_t> labels;  // label of every voxel (0 = background)
};

// ROI signals: a mix of slow sinusoids and AR(1) noise per ROI, offset 1000. Voxel noise sd `noise`.
// Background voxels are 0 (outside the brain). Writes float32 NIfTI (.nii or .nii.gz by name).
SyntheticBold writeSyntheticBold(const std::filesystem::path& out, const bg::NiftiVolume& labelVolume, int timePoints, double tr, double noise, unsigned seed);

}  // namespace bgtest
