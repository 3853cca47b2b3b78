#pragma once
// Cross-fitting, so that the model file users get learns from every labelled scan and is still
// calibrated on scores of scans its scorer did not see: K stratified folds of the training rows;
// each fold's model, fitted on the other K-1 folds, scores the rows it left out; the calibration is
// fitted on those out-of-fold margins, and the deployed model is refitted on every row. `train` does
// this for the file it writes and `evaluate` does the same inside each outer fold, so the
// cross-validated figure describes the procedure behind the file.
#include <string>
#include <vector>

#include <Eigen/Core>

#include "eval/Baselines.h"
#include "eval/Calibration.h"
#include "jobs/Progress.h"

namespace bg {

inline constexpr int kCrossFitFolds = 5;

struct CrossFit {
  std::vector<double> margins;                 // one per row, from the fold model that left it out
  std::vector<int> foldOf;                     // each row's fold
  std::vector<LogisticRegression> foldModels;  // fold k: fitted on every row not in fold k
  Calibration calibration;                     // fitted on `margins`
};

// z: standardised features (rows x features), y: 0/1 labels. Folds are stratified and deterministic
// for a seed (fewer than `folds` when a class has fewer rows). Throws bg::Error when a class has
// fewer than two rows.
CrossFit crossFitLogistic(const Eigen::MatrixXd& z, const Eigen::VectorXi& y, double c, const std::string& calibrationKind, unsigned seed,
                          int folds = kCrossFitFolds, ProgressDelegate* progress = nullptr);

}  // namespace bg
