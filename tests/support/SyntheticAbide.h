#pragma once
// A small synthetic ABIDE release for tests: a phenotype CSV and <FILE_ID>_rois_cc200.1D.gz ROI
// time series laid out as the Preprocessed Connectomes Project publishes them, so `import abide`
// reads them with its real code. The two classes differ in how strongly the first networks' ROIs
// share their network's signal (a weaker within-network coupling for autism), the sites in a
// global signal of their own; everything follows from the seed, on any machine.
#include <filesystem>
#include <string>
#include <vector>

namespace bgtest {

struct SyntheticAbideSpec {
  int subjectsPerSite = 16;  // half autism (DX_GROUP 1), half control (2), alternating
  std::vector<std::string> sites = {"SITEA", "SITEB"};
  int rois = 200;
  int timePoints = 80;
  double classEffect = 0.35;  // loading lost by autism scans on networks 0 and 1
  unsigned seed = 11;
};

struct SyntheticAbide {
  std::filesystem::path phenotypes;  // Phenotypic_V1_0b_preprocessed1.csv
  std::filesystem::path timeseries;  // folder of <FILE_ID>_rois_cc200.1D.gz
  std::vector<std::filesystem::path> files;
};

SyntheticAbide writeSyntheticAbide(const std::filesystem::path& dir, const SyntheticAbideSpec& spec = {});

}  // namespace bgtest
