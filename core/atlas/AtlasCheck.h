#pragma once
// Every parcellation of a registry checked against its files, for `atlas list` and Tools › Verify
// Atlases alike: an atlas whose files are missing or unreadable is a failed line of the result (with
// its problem), not the end of the check. Only a cancel stops it.
#include <vector>

#include "atlas/AtlasRegistry.h"
#include "jobs/Progress.h"

namespace bg {

std::vector<AtlasVerification> verifyAllAtlases(const AtlasRegistry& registry, ProgressDelegate& progress);

}  // namespace bg
