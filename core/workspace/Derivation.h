#pragma once
#include <optional>
// Batch derivation: the connectome pipeline for every selected scan x atlas, stored in the
// workspace. A derivative is keyed by (scan, atlas, hash of the pipeline parameters) and
// remembers the input's content hash: re-running skips what is up to date. Arrays are
// written before the rows that name them and each scan commits in one transaction, so a
// crash or cancel leaves the workspace consistent and the batch resumable.
#include <cstdint>
#include <string>
#include <vector>

#include "connectome/ConnectomePipeline.h"
#include "jobs/Progress.h"

namespace bg {

class AtlasRegistry;
class Workspace;

struct DeriveRequest {
  std::vector<std::int64_t> scanIds;  // empty: every scan
  std::vector<std::string> atlases;   // for BOLD scans; empty: all eight
  PipelineOptions options;
};

struct DeriveSummary {
  int computed = 0, upToDate = 0, failed = 0;
  std::vector<std::string> failures;  // one chained message per failed scan
};

std::string pipelineParamsJson(const PipelineOptions& options);
std::string pipelineParamsHash(const PipelineOptions& options);
// The inverse of pipelineParamsJson (what a model file records, so prediction preprocesses alike).
PipelineOptions pipelineOptionsFromJson(const std::string& json);
// The parameters recorded for a derivative parameter hash ("" when the workspace has none).
std::string derivationParamsJson(Workspace& ws, const std::string& paramsHash);

// The pipeline settings the workspace's connectomes were derived with, most used first.
struct ParameterSet {
  std::string hash, json;
  int derivatives = 0;
};
std::vector<ParameterSet> derivationParameterSets(Workspace& ws);
// The atlases of the workspace's connectomes, most used first.
std::vector<std::string> derivedAtlases(Workspace& ws);
// One line a user can read: "cleaned (linear detrend, band-pass 0.01-0.1 Hz, ...), Pearson".
std::string describePipeline(const PipelineOptions& options);

// One derivation per workspace at a time: a second one (another process) is refused with the first's
// process id instead of computing the same connectomes twice; a lock left by a killed process is taken over.
DeriveSummary deriveConnectomes(Workspace& ws, const AtlasRegistry& registry, const DeriveRequest& request, ProgressDelegate& progress);
// The process id of a derivation running on the workspace now (another process), if any.
std::optional<long> runningDerivation(const std::filesystem::path& workspaceDir);

// workspace check --repair: every derivative whose arrays are missing or fail their checksum is derived
// again with its own recorded parameters (a time-series scan's damaged series is read again from its
// file when that file is still the one imported). One line per finding and per action.
std::vector<std::string> repairDerivatives(Workspace& ws, const AtlasRegistry& registry, ProgressDelegate& progress);

}  // namespace bg
