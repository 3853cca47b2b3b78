#include "SyntheticBold.h"

#include <cmath>
#include <random>

namespace bgtest {

SyntheticBold writeSyntheticBold(const std::filesystem::path& out, const bg::NiftiVolume& labelVolume, int timePoints, double tr, double noise, unsigned seed) {
  SyntheticBold s;
  s.header = labelVolume.header;
  s.header.ndim = 4;
  s.header.dim[3] = timePoints;
  s.header.repetitionTime = tr;
  s.header.pixdim[3] = tr;
  const auto n = static_cast<std::size_t>(labelVolume.header.voxelsPerVolume());
  s.labels.resize(n);
  int maxLabel = 0;
  for (std::size_t i = 0; i < n; ++i) {
    s.labels[i] = static_cast<std::int32_t>(std::lround(labelVolume.data[i]));
    maxLabel = std::max(maxLabel, s.labels[i]);
  }
  std::mt19937 rng(seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  s.roiSignals.resize(timePoints, maxLabel);
  for (int l = 0; l < maxLabel; ++l) {
    const double f1 = 0.01 + 0.08 * uni(rng), f2 = 0.01 + 0.08 * uni(rng), p1 = 6.283 * uni(rng), p2 = 6.283 * uni(rng);
    double ar = 0;
    for (int t = 0; t < timePoints; ++t) {
      ar = 0.6 * ar + gauss(rng);
      s.roiSignals(t, l) = 1000.0 + 20.0 * std::sin(6.283 * f1 * t * tr + p1) + 10.0 * std::sin(6.283 * f2 * t * tr + p2) + 5.0 * ar;
    }
  }
  std::vector<float> data(n * static_cast<std::size_t>(timePoints), 0.0f);
  for (int t = 0; t < timePoints; ++t) {
    float* vol = data.data() + static_cast<std::size_t>(t) * n;
    for (std::size_t i = 0; i < n; ++i) {
      const int l = s.labels[i];
      if (l > 0) vol[i] = static_cast<float>(s.roiSignals(t, l - 1) + noise * gauss(rng));
    }
  }
  bg::writeNiftiFloat(out, s.header, data.data());
  return s;
}

}  // namespace bgtest
