#include "eval/CrossFit.h"

#include <algorithm>

#include "errors/Error.h"
#include "workspace/Corpus.h"

namespace bg {

CrossFit crossFitLogistic(const Eigen::MatrixXd& z, const Eigen::VectorXi& y, double c, const std::string& calibrationKind, unsigned seed, int folds,
                          ProgressDelegate* progress) {
  const std::vector<int> labels(y.data(), y.data() + y.size());
  const auto positives = static_cast<int>(std::count(labels.begin(), labels.end(), 1));
  const int smaller = std::min(positives, static_cast<int>(labels.size()) - positives);
  if (smaller < 2) throw Error(ErrorCode::Data, "cross-fitting needs at least two labelled scans of each class");
  const int k = std::min(folds, smaller);  // every fold holds both classes
  const auto parts = stratifiedFolds(labels, k, seed);
  CrossFit cf;
  cf.margins.assign(labels.size(), 0.0);
  cf.foldOf.assign(labels.size(), 0);
  for (int f = 0; f < k; ++f) {
    if (progress && progress->update("cross-fitting " + std::to_string(f + 1) + " of " + std::to_string(k), static_cast<double>(f) / k)) throw CancelledError();
    const auto& part = parts[static_cast<std::size_t>(f)];
    std::vector<Eigen::Index> train(part.train.begin(), part.train.end()), held(part.validation.begin(), part.validation.end());
    LogisticRegression model(c);
    model.fit(z(train, Eigen::all), y(train));
    const Eigen::VectorXd m = (z(held, Eigen::all) * model.weights()).array() + model.intercept();
    for (std::size_t r = 0; r < held.size(); ++r) {
      cf.margins[static_cast<std::size_t>(held[r])] = m(static_cast<Eigen::Index>(r));
      cf.foldOf[static_cast<std::size_t>(held[r])] = f;
    }
    cf.foldModels.push_back(std::move(model));
  }
  cf.calibration = fitCalibration(calibrationKind, cf.margins, labels);
  if (progress) progress->update("cross-fitted", 1.0);
  return cf;
}

}  // namespace bg
