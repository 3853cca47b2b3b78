#include "connectome/BrainGraph.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <queue>
#include <random>

#include "errors/Error.h"

namespace bg {

Eigen::MatrixXd buildAdjacency(const Eigen::MatrixXd& fc, const AdjacencyOptions& o) {
  const Eigen::Index n = fc.rows();
  if (fc.cols() != n) throw Error(ErrorCode::Data, "FC matrix is not square");
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(n, n);
  auto value = [&](Eigen::Index i, Eigen::Index j) { return o.absolute ? std::fabs(fc(i, j)) : fc(i, j); };
  switch (o.rule) {
    case AdjacencyRule::Threshold:
      for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < n; ++j) a(i, j) = value(i, j) > o.threshold ? 1.0 : 0.0;
      break;
    case AdjacencyRule::Weighted:
      a = o.absolute ? fc.cwiseAbs() : fc;
      break;
    case AdjacencyRule::Proportional: {
      if (!(o.density > 0 && o.density <= 1)) throw Error(ErrorCode::Usage, "density must be in (0, 1]");
      std::vector<std::pair<double, std::pair<Eigen::Index, Eigen::Index>>> edges;
      for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = i + 1; j < n; ++j) edges.push_back({value(i, j), {i, j}});
      const auto keep = static_cast<std::size_t>(std::llround(o.density * static_cast<double>(edges.size())));
      std::partial_sort(edges.begin(), edges.begin() + static_cast<long>(std::min(keep, edges.size())), edges.end(),
                        [](const auto& x, const auto& y) { return x.first > y.first; });
      for (std::size_t k = 0; k < std::min(keep, edges.size()); ++k) {
        const auto [i, j] = edges[k].second;
        a(i, j) = a(j, i) = 1.0;
      }
      break;
    }
  }
  for (Eigen::Index i = 0; i < n; ++i) a(i, i) = o.keepDiagonal ? (o.rule == AdjacencyRule::Weighted ? a(i, i) : 1.0) : 0.0;
  return a;
}

Eigen::MatrixXd randomWalkEncoding(const Eigen::MatrixXd& adjacency, int steps) {
  const Eigen::Index n = adjacency.rows();
  Eigen::VectorXd deg = adjacency.rowwise().sum().array() + 1e-6;
  const Eigen::MatrixXd p = deg.cwiseInverse().asDiagonal() * adjacency;
  Eigen::MatrixXd out(n, steps);
  Eigen::MatrixXd pk = p;
  for (int k = 0; k < steps; ++k) {
    out.col(k) = pk.diagonal();
    if (k + 1 < steps) pk = pk * p;
  }
  return out;
}

Eigen::MatrixXd nodeFeatures(const Eigen::MatrixXd& fc, const Eigen::MatrixXd& rwse, int width) {
  const Eigen::Index n = fc.rows();
  const Eigen::Index used = fc.cols() + rwse.cols();
  const Eigen::Index w = width > 0 ? std::max<Eigen::Index>(width, used) : used;
  if (width > 0 && used > width)
    throw Error(ErrorCode::Data, "FC rows plus RWSE need " + std::to_string(used) + " columns, more than the width " + std::to_string(width));
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(n, w);
  x.leftCols(fc.cols()) = fc;
  x.middleCols(fc.cols(), rwse.cols()) = rwse;
  return x;
}

namespace {

double globalEfficiency(const Eigen::MatrixXd& w) {
  const Eigen::Index n = w.rows();
  if (n < 2) return 0.0;
  double sum = 0;
  std::vector<int> dist(static_cast<std::size_t>(n));
  for (Eigen::Index s = 0; s < n; ++s) {
    std::fill(dist.begin(), dist.end(), -1);
    std::queue<Eigen::Index> q;
    dist[static_cast<std::size_t>(s)] = 0;
    q.push(s);
    while (!q.empty()) {
      const Eigen::Index u = q.front();
      q.pop();
      for (Eigen::Index v = 0; v < n; ++v)
        if (v != u && w(u, v) != 0 && dist[static_cast<std::size_t>(v)] < 0) {
          dist[static_cast<std::size_t>(v)] = dist[static_cast<std::size_t>(u)] + 1;
          q.push(v);
        }
    }
    for (Eigen::Index t = 0; t < n; ++t)
      if (t != s && dist[static_cast<std::size_t>(t)] > 0) sum += 1.0 / dist[static_cast<std::size_t>(t)];
  }
  return sum / (static_cast<double>(n) * static_cast<double>(n - 1));
}

Eigen::VectorXd weightedClustering(const Eigen::MatrixXd& w) {
  // Onnela: C_i = sum_jk (w_ij w_jk w_ki)^(1/3) / (k_i (k_i - 1)), weights scaled by max |w|.
  const Eigen::Index n = w.rows();
  Eigen::MatrixXd a = w.cwiseAbs();
  a.diagonal().setZero();
  const double mx = a.maxCoeff();
  Eigen::VectorXd c = Eigen::VectorXd::Zero(n);
  if (mx <= 0) return c;
  const Eigen::MatrixXd cube = (a / mx).array().pow(1.0 / 3.0).matrix();
  const Eigen::MatrixXd cyc = cube * cube * cube;
  for (Eigen::Index i = 0; i < n; ++i) {
    double k = 0;
    for (Eigen::Index j = 0; j < n; ++j) k += a(i, j) != 0 ? 1 : 0;
    c(i) = k > 1 ? cyc(i, i) / (k * (k - 1)) : 0.0;
  }
  return c;
}

}  // namespace

double signedModularity(const Eigen::MatrixXd& w0, const Eigen::VectorXi& community) {
  Eigen::MatrixXd w = w0;
  w.diagonal().setZero();
  const Eigen::MatrixXd wp = w.cwiseMax(0.0), wn = (-w).cwiseMax(0.0);
  const double mp = wp.sum(), mn = wn.sum();
  const Eigen::VectorXd sp = wp.rowwise().sum(), sn = wn.rowwise().sum();
  double qp = 0, qn = 0;
  for (Eigen::Index i = 0; i < w.rows(); ++i)
    for (Eigen::Index j = 0; j < w.cols(); ++j) {
      if (community(i) != community(j)) continue;
      if (mp > 0) qp += wp(i, j) - sp(i) * sp(j) / mp;
      if (mn > 0) qn += wn(i, j) - sn(i) * sn(j) / mn;
    }
  // Q = (m+ Q+ - m- Q-) / (m+ + m-), with Q+- normalised by m+-.
  const double total = mp + mn;
  return total > 0 ? (qp - qn) / total : 0.0;
}

Eigen::VectorXi louvainSigned(const Eigen::MatrixXd& w0, unsigned seed, double* modularity) {
  // Louvain (Blondel et al. 2008) on the signed modularity above: local moves, then aggregation.
  const Eigen::Index n0 = w0.rows();
  Eigen::MatrixXd w = w0;
  w.diagonal().setZero();
  Eigen::VectorXi assignment = Eigen::VectorXi::LinSpaced(n0, 0, static_cast<int>(n0) - 1);  // original node -> community
  std::mt19937 rng(seed);
  const double mp = w.cwiseMax(0.0).sum(), mn = (-w).cwiseMax(0.0).sum(), total = mp + mn;
  if (total <= 0) {
    if (modularity) *modularity = 0;
    return Eigen::VectorXi::Zero(n0);
  }
  Eigen::MatrixXd g = w;  // current (aggregated) graph, self-loops kept after aggregation
  for (int level = 0; level < 20; ++level) {
    const Eigen::Index n = g.rows();
    const Eigen::MatrixXd gp = g.cwiseMax(0.0), gn = (-g).cwiseMax(0.0);
    const Eigen::VectorXd kp = gp.rowwise().sum(), kn = gn.rowwise().sum();
    std::vector<int> comm(static_cast<std::size_t>(n));
    std::iota(comm.begin(), comm.end(), 0);
    std::vector<double> totP(kp.data(), kp.data() + n), totN(kn.data(), kn.data() + n);
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    bool moved = false, improvement = true;
    int sweeps = 0;
    while (improvement && sweeps++ < 100) {
      improvement = false;
      std::shuffle(order.begin(), order.end(), rng);
      for (Eigen::Index i : order) {
        const int ci = comm[static_cast<std::size_t>(i)];
        std::map<int, std::pair<double, double>> links;  // community -> (w+ to it, w- to it)
        for (Eigen::Index j = 0; j < n; ++j) {
          if (j == i) continue;
          auto& l = links[comm[static_cast<std::size_t>(j)]];
          l.first += gp(i, j);
          l.second += gn(i, j);
        }
        totP[static_cast<std::size_t>(ci)] -= kp(i);
        totN[static_cast<std::size_t>(ci)] -= kn(i);
        auto gain = [&](int c) {
          const auto it = links.find(c);
          const double lp = it == links.end() ? 0 : it->second.first, ln = it == links.end() ? 0 : it->second.second;
          double d = 0;
          if (mp > 0) d += lp - kp(i) * totP[static_cast<std::size_t>(c)] / mp;
          if (mn > 0) d -= ln - kn(i) * totN[static_cast<std::size_t>(c)] / mn;
          return d;
        };
        int best = ci;
        double bestGain = gain(ci);
        for (const auto& [c, l] : links) {
          const double d = gain(c);
          if (d > bestGain + 1e-12) {
            bestGain = d;
            best = c;
          }
        }
        totP[static_cast<std::size_t>(best)] += kp(i);
        totN[static_cast<std::size_t>(best)] += kn(i);
        if (best != ci) {
          comm[static_cast<std::size_t>(i)] = best;
          improvement = moved = true;
        }
      }
    }
    // Renumber communities 0..K-1 and aggregate.
    std::map<int, int> renum;
    for (int c : comm)
      if (!renum.count(c)) renum[c] = static_cast<int>(renum.size());
    for (Eigen::Index v = 0; v < n0; ++v) assignment(v) = renum[comm[static_cast<std::size_t>(assignment(v))]];
    if (!moved) break;
    const auto k = static_cast<Eigen::Index>(renum.size());
    Eigen::MatrixXd agg = Eigen::MatrixXd::Zero(k, k);
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j) agg(renum[comm[static_cast<std::size_t>(i)]], renum[comm[static_cast<std::size_t>(j)]]) += g(i, j);
    if (k == n) break;
    g = agg;
  }
  if (modularity) *modularity = signedModularity(w0, assignment);
  return assignment;
}

Eigen::VectorXd participationCoefficient(const Eigen::MatrixXd& w0, const std::vector<int>& module) {
  const Eigen::Index n = w0.rows();
  Eigen::MatrixXd w = w0.cwiseMax(0.0);
  w.diagonal().setZero();
  Eigen::VectorXd p = Eigen::VectorXd::Zero(n);
  if (static_cast<Eigen::Index>(module.size()) != n) return p;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double k = w.row(i).sum();
    if (k <= 0) continue;
    std::map<int, double> perModule;
    for (Eigen::Index j = 0; j < n; ++j) perModule[module[static_cast<std::size_t>(j)]] += w(i, j);
    double s = 0;
    for (const auto& [m, v] : perModule) s += (v / k) * (v / k);
    p(i) = 1.0 - s;
  }
  return p;
}

GraphMetrics computeGraphMetrics(const Eigen::MatrixXd& weights, const std::vector<int>& networkOfNode, unsigned seed) {
  GraphMetrics m;
  Eigen::MatrixXd w = weights;
  w.diagonal().setZero();
  m.degree = (w.array() != 0.0).cast<double>().rowwise().sum();
  m.strength = w.rowwise().sum();
  m.clustering = weightedClustering(w);
  m.globalEfficiency = globalEfficiency(w);
  m.community = louvainSigned(w, seed, &m.modularity);
  m.participation = participationCoefficient(w, networkOfNode);
  return m;
}

}  // namespace bg
