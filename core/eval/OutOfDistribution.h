#pragma once
// Is a new scan like the ones the model learned from? Its embedding (the standardised features of a
// linear model, BrainGFM's pooled graph embedding) is compared with the training embeddings by the
// root-mean-square z-distance from their mean. The training distances are kept (sorted), so a new
// distance gets a percentile; above the 99th the scan is flagged as out of distribution.
#include <string>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

namespace bg {

// Rows are training samples. standardise = false when the embeddings already are z-scores.
nlohmann::json fitOodReference(const Eigen::MatrixXd& embeddings, const std::string& space, bool standardise);

// {distance, percentile, threshold, flag, space, metric}; null when the reference is empty.
nlohmann::json assessOod(const nlohmann::json& reference, const Eigen::VectorXd& embedding);

}  // namespace bg
