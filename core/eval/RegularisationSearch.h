#pragma once
// Nested choice of a baseline's regularisation: C chosen from a grid by stratified k-fold
// cross-validation inside the training part alone, so the test fold never informs it (as
// scikit-learn's LogisticRegressionCV inside an outer cross-validation).
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "jobs/Progress.h"

namespace bg {

struct RegularisationChoice {
  double c = 0.01;
  std::vector<double> grid;  // ascending
  std::vector<double> auc;   // mean inner-fold AUC per grid value
  int folds = 0;
};

// x: the training part's features (already harmonised, not yet standardised: each inner fold fits
// its own standardisation); y: 0/1 labels; method: logreg or svm. The grid value with the highest
// mean AUC over the inner folds wins; a tie goes to the smaller C (the stronger regularisation).
// A one-value grid is returned as chosen without fitting anything. Throws bg::Error (Usage) for an
// empty grid, a C <= 0, or too few scans of a class for the folds; CancelledError on a cancel request.
RegularisationChoice chooseRegularisation(const Eigen::MatrixXd& x, const Eigen::VectorXi& y, std::vector<double> grid, const std::string& method, int folds,
                                          unsigned seed, ProgressDelegate* progress = nullptr);

nlohmann::json toJson(const RegularisationChoice& choice);

// "0.001,0.01,0.1" or "0.01" -> the values, ascending and without repeats; a clear error otherwise.
std::vector<double> parseRegularisationGrid(const std::string& text);

}  // namespace bg
