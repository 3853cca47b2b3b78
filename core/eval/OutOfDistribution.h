#pragma once
// Is a new scan like the ones the model learned from? Its embedding (the Fisher-z features of a
// linear model, BrainGFM's pooled graph embedding) is standardised with the training statistics and
// projected on the training data's principal axes (at most 10); the distance is the Mahalanobis
// distance there (root mean square of the axis scores over their training SDs). A plain distance
// from the mean misses scans that are atypical by being too featureless (noise has near-zero FC,
// close to the mean edge by edge), so a second measure asks how much the embedding resembles the
// mean training embedding (1 - correlation; leave-one-out for the training scans), the classic
// "similarity to the group connectome" check. Both training distributions are kept (sorted), so a
// new scan gets percentiles; above the 99th on either it is flagged.
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

namespace bg {

// Rows are training samples (at least 4). standardise = false keeps the raw scale (mean still removed).
nlohmann::json fitOodReference(const Eigen::MatrixXd& embeddings, const std::string& space, bool standardise);

// {distance, percentile, threshold, flag, space, metric}; null when the reference is empty.
nlohmann::json assessOod(const nlohmann::json& reference, const Eigen::VectorXd& embedding);

// An ensemble's check: every member has its own embedding space and reference. The scan is flagged
// when at least half of the members flag it (one member's 1% false alarms do not add up over the
// ensemble, and a tie errs on the side of caution). Keeps the first member's distances for display and
// adds {members: [{distance, percentile, template_distance, template_percentile, flag}], members_flagged}.
// Null entries (a member without a reference) are skipped; null when none is left.
nlohmann::json combineOod(const std::vector<nlohmann::json>& memberAssessments);

}  // namespace bg
