#pragma once
// Cross-validated evaluation of the classical baselines on a corpus (issue 6 will add the models).
#include <string>

#include <nlohmann/json.hpp>

#include "jobs/Progress.h"

namespace bg {

class Workspace;

struct EvaluateRequest {
  std::string method = "logreg";  // logreg | svm
  double c = 0.01;
  std::string split = "corpus";   // corpus (its own split) | kfold | leave-site-out
  int folds = 10;
  unsigned seed = 0;
};

// Fisher-z FC upper triangle, standardised on each training part (train + validation; the
// baselines need no early stopping), scored on the test part. Labels: class 1 is the positive class.
nlohmann::json evaluateBaseline(Workspace& ws, const nlohmann::json& manifest, const EvaluateRequest& request, ProgressDelegate& progress);

}  // namespace bg
