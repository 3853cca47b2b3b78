#include "atlas/AtlasCheck.h"

#include "errors/Error.h"

namespace bg {

std::vector<AtlasVerification> verifyAllAtlases(const AtlasRegistry& registry, ProgressDelegate& progress) {
  const auto atlases = registry.parcellations();
  std::vector<AtlasVerification> results(atlases.size());
  for (std::size_t i = 0; i < atlases.size(); ++i) {
    const double n = static_cast<double>(atlases.size());
    ProgressRange range(progress, static_cast<double>(i) / n, static_cast<double>(i + 1) / n);
    try {
      results[i] = withContext("while verifying atlas " + atlases[i]->id, [&] { return registry.verify(atlases[i]->id, range); });
    } catch (const Error& e) {
      if (e.code() == ErrorCode::Cancelled) throw;
      results[i].id = atlases[i]->id;
      results[i].manifestRoiCount = atlases[i]->roiCount;
      results[i].missing = e.code() == ErrorCode::NoInput;
      results[i].problem = e.cause();
    }
  }
  return results;
}

}  // namespace bg
