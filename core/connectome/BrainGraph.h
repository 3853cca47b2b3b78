#pragma once
// Brain graphs from FC matrices as the BrainGFM paper builds them, and classical graph metrics.
#include <string>
#include <vector>

#include <Eigen/Core>

namespace bg {

enum class AdjacencyRule {
  Threshold,     // keep r > t (or |r| > t), binary
  Proportional,  // keep the top `density` fraction of edges by weight (or |weight|), binary
  Weighted       // keep every edge with its weight
};

struct AdjacencyOptions {
  AdjacencyRule rule = AdjacencyRule::Threshold;
  double threshold = 0.3;    // the paper's reference code: A > 0.3
  double density = 0.1;      // proportional: fraction of the N(N-1)/2 edges kept
  bool absolute = false;     // compare |r|
  bool keepDiagonal = true;  // the reference code keeps the diagonal
};

Eigen::MatrixXd buildAdjacency(const Eigen::MatrixXd& fc, const AdjacencyOptions& options);

// Random-walk structural encoding: P = D^-1 A (row sums + 1e-6), feature_k(i) = (P^k)_ii, k = 1..steps.
Eigen::MatrixXd randomWalkEncoding(const Eigen::MatrixXd& adjacency, int steps = 5);

// Node features as the paper uses them: FC rows, then RWSE, zero-padded to `width` columns
// (width <= 0: no padding).
Eigen::MatrixXd nodeFeatures(const Eigen::MatrixXd& fc, const Eigen::MatrixXd& rwse, int width = 512);

struct GraphMetrics {
  Eigen::VectorXd degree;       // binary degree (self-loops excluded)
  Eigen::VectorXd strength;     // sum of weights (self-loops excluded)
  Eigen::VectorXd clustering;   // weighted clustering (Onnela et al. 2005) on |w| normalised by max |w|
  double globalEfficiency = 0;  // on binary edges (w != 0), shortest paths by BFS
  Eigen::VectorXi community;    // Louvain on signed weights (Gomez et al. 2009 modularity)
  double modularity = 0;
  Eigen::VectorXd participation;  // by the given node partition (e.g. atlas networks)
};

GraphMetrics computeGraphMetrics(const Eigen::MatrixXd& weights, const std::vector<int>& networkOfNode, unsigned seed = 1);

// Signed modularity of a partition (Gomez, Jensen & Arenas 2009).
double signedModularity(const Eigen::MatrixXd& w, const Eigen::VectorXi& community);
Eigen::VectorXi louvainSigned(const Eigen::MatrixXd& w, unsigned seed = 1, double* modularity = nullptr);
// Participation coefficient (Guimera & Amaral 2005) on positive weights.
Eigen::VectorXd participationCoefficient(const Eigen::MatrixXd& w, const std::vector<int>& module);

}  // namespace bg
