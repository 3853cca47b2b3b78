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
  int claimedElsewhere = 0;           // scans another running derivation was computing (left to it)
  std::vector<long> otherProcesses;   // those derivations' process ids
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

// Derivations of one workspace may run side by side (two terminals, the GUI and a script): each scan
// is claimed in the workspace database before it is computed, and a scan another live process has
// claimed is left to it (counted in DeriveSummary::claimedElsewhere), so no connectome is computed
// twice. A claim left by a killed process is taken over.
DeriveSummary deriveConnectomes(Workspace& ws, const AtlasRegistry& registry, const DeriveRequest& request, ProgressDelegate& progress);
// The process id of a derivation running on the workspace now (another process), if any: each
// running derivation marks the workspace with derive-PID.lock.
std::optional<long> runningDerivation(const std::filesystem::path& workspaceDir);

// workspace check --repair: every derivative whose arrays are missing or fail their checksum is derived
// again with its own recorded parameters (a time-series scan's damaged series is read again from its
// file when that file is still the one imported). One line per finding and per action.
std::vector<std::string> repairDerivatives(Workspace& ws, const AtlasRegistry& registry, ProgressDelegate& progress);

}  // namespace bg
