#pragma once
// Read-only views of a workspace for browsers and reports: scans with their phenotypes and
// derivatives, and group statistics of FC matrices.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "connectome/GroupComparison.h"
#include "jobs/Progress.h"

namespace bg {

class Workspace;

struct ScanListing {
  std::int64_t id = 0;
  std::string dataset, subject, session, kind, path, atlas;
  int derivatives = 0;
  std::map<std::string, std::string> phenotypes;  // the requested columns only
};

// Phenotype names, most widely recorded first.
std::vector<std::string> phenotypeNames(Workspace& ws);
// A phenotype of the subject whose scan has these bytes (content hash), if the workspace holds both.
std::optional<std::string> scanPhenotype(Workspace& ws, const std::string& contentHash, const std::string& name);
std::vector<ScanListing> listScans(Workspace& ws, const std::vector<std::string>& phenotypeColumns);
int countScans(Workspace& ws);
// The repetition time recorded for the scan stored at `path`, and the site phenotype of its subject.
std::optional<double> scanRepetitionTime(Workspace& ws, const std::string& path);
std::optional<std::string> scanSite(Workspace& ws, const std::string& path);

struct DerivativeListing {
  std::string atlas, paramsHash, fcArray, seriesArray;
};
std::vector<DerivativeListing> scanDerivatives(Workspace& ws, std::int64_t scanId);

// Element-wise moments of the Fisher-z FC matrices of a corpus's items of one class (for group tests).
GroupMoments groupFisherZMoments(Workspace& ws, const nlohmann::json& manifest, int classIndex, ProgressDelegate& progress);

// Element-wise mean of the FC matrices of a corpus's items of one class (all classes when < 0).
Eigen::MatrixXd groupMeanFc(Workspace& ws, const nlohmann::json& manifest, int classIndex, ProgressDelegate& progress);

}  // namespace bg
