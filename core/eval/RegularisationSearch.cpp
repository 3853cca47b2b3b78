#include "eval/RegularisationSearch.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "errors/Error.h"
#include "eval/Baselines.h"
#include "eval/Metrics.h"
#include "platform/Strings.h"
#include "workspace/Corpus.h"

namespace bg {
namespace {
std::string shortNumber(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}
}  // namespace

RegularisationChoice chooseRegularisation(const Eigen::MatrixXd& x, const Eigen::VectorXi& y, std::vector<double> grid, const std::string& method, int folds,
                                          unsigned seed, ProgressDelegate* progress) {
  if (grid.empty()) throw Error(ErrorCode::Usage, "no value of C to choose from");
  for (double c : grid)
    if (!(c > 0) || !std::isfinite(c)) throw Error(ErrorCode::Usage, "C must be positive, not " + std::to_string(c));
  if (method != "logreg" && method != "svm") throw Error(ErrorCode::Usage, "method '" + method + "' is not logreg or svm");
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  RegularisationChoice choice;
  choice.grid = grid;
  choice.c = grid.front();
  if (grid.size() == 1) return choice;
  std::vector<int> labels(y.data(), y.data() + y.size());
  const auto positives = std::count(labels.begin(), labels.end(), 1);
  if (std::min<std::ptrdiff_t>(positives, static_cast<std::ptrdiff_t>(labels.size()) - positives) < folds)
    throw Error(ErrorCode::Usage,
                "choosing C by " + std::to_string(folds) + "-fold cross-validation needs at least " + std::to_string(folds) + " training scans of each class");
  const auto inner = stratifiedFolds(labels, folds, seed);
  choice.folds = folds;
  std::vector<std::vector<double>> aucs(grid.size());
  for (std::size_t k = 0; k < inner.size(); ++k) {
    std::vector<Eigen::Index> tr(inner[k].train.begin(), inner[k].train.end()), va(inner[k].validation.begin(), inner[k].validation.end());
    Standardizer scaler;
    scaler.fit(x(tr, Eigen::all));
    const Eigen::MatrixXd zt = scaler.apply(x(tr, Eigen::all)), zv = scaler.apply(x(va, Eigen::all));
    const Eigen::VectorXi yt = y(tr);
    std::vector<int> yv;
    for (auto i : va) yv.push_back(y(i));
    for (std::size_t g = 0; g < grid.size(); ++g) {
      if (progress &&
          progress->update("choosing C: inner fold " + std::to_string(k + 1) + " of " + std::to_string(inner.size()) + ", C = " + shortNumber(grid[g]),
                           static_cast<double>(k * grid.size() + g) / static_cast<double>(inner.size() * grid.size())))
        throw CancelledError();
      Eigen::VectorXd score;
      if (method == "logreg") {
        LogisticRegression m(grid[g]);
        m.fit(zt, yt);
        score = (zv * m.weights()).array() + m.intercept();
      } else {
        LinearSvm m(grid[g]);
        m.fit(zt, yt);
        score = m.decision(zv);
      }
      aucs[g].push_back(binaryMetrics(yv, std::vector<double>(score.data(), score.data() + score.size())).auc);
    }
  }
  for (std::size_t g = 0; g < grid.size(); ++g) {
    double sum = 0;
    for (double a : aucs[g]) sum += a;
    choice.auc.push_back(sum / static_cast<double>(aucs[g].size()));
  }
  // Strictly better only: a tie keeps the smaller C found first.
  std::size_t best = 0;
  for (std::size_t g = 1; g < grid.size(); ++g)
    if (choice.auc[g] > choice.auc[best]) best = g;
  choice.c = grid[best];
  return choice;
}

nlohmann::json toJson(const RegularisationChoice& choice) {
  return {{"c", choice.c}, {"grid", choice.grid}, {"inner_auc", choice.auc}, {"inner_folds", choice.folds}};
}

std::vector<double> parseRegularisationGrid(const std::string& text) {
  std::vector<double> grid;
  for (const auto& part : splitList(text)) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != part.size() || !(v > 0) || !std::isfinite(v))
      throw Error(ErrorCode::Usage, "C must be a positive number or a comma-separated list of them (e.g. 0.001,0.01,0.1), not '" + part + "'");
    grid.push_back(v);
  }
  if (grid.empty()) throw Error(ErrorCode::Usage, "no value of C given");
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  return grid;
}

}  // namespace bg
