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

// A site of an ABIDE-shaped release: its first `children` subjects are under 10 (7 to 9.75 years),
// the others 10.5 and older.
struct SyntheticSite {
  std::string name;
  int subjects = 0;
  int children = 0;
};

struct SyntheticAbideSpec {
  int subjectsPerSite = 16;  // half autism (DX_GROUP 1), half control (2), alternating
  std::vector<std::string> sites = {"SITEA", "SITEB"};
  // When given, these sites replace `sites` and `subjectsPerSite` (ages as SyntheticSite says), and the
  // table gains EYE_STATUS_AT_SCAN (1 open, 2 closed; independent of the diagnosis).
  std::vector<SyntheticSite> shapedSites;
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
