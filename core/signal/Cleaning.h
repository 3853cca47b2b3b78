#pragma once
// Cleaning of ROI time series (time points x ROIs), each step a small function.
//
// Order of operations in clean() (the order nilearn's signal.clean uses, so that the
// confounds stay orthogonal to what is removed from the signals):
//   1. detrend signals and confounds (polynomial of the chosen order, constant included);
//   2. band-pass signals and confounds with the same filter;
//   3. regress the confounds out of the signals, fitting on the volumes kept by scrubbing;
//   4. scrub: drop volumes whose framewise displacement exceeds the threshold;
//   5. z-score each ROI (zero-variance ROIs stay 0).
//
// The band-pass filter is a zero-phase Butterworth: the squared magnitude response
// |H(f)|^2 of an order-n Butterworth low-pass (cut-off `highHz`) times an order-n high-pass
// (cut-off `lowHz`), i.e. what forward-backward filtering (filtfilt) of that filter gives,
// applied in the frequency domain (Eigen's FFT) to the series mirrored at both ends, which
// keeps edge effects small. Default: order 5, 0.01-0.1 Hz; the frequencies follow the TR.
#include <filesystem>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace bg {

struct Confounds {
  Eigen::MatrixXd regressors;  // time points x regressors (n/a replaced by 0)
  std::vector<std::string> names;
  std::vector<double> framewiseDisplacement;  // empty when the file has none
};

// Strategies: motion6, motion24, wm_csf, global_signal, acompcor (first 5 components).
// Throws bg::Error naming the file and the missing column.
Confounds loadFmriprepConfounds(const std::filesystem::path& tsv, const std::vector<std::string>& strategies);
std::vector<std::string> parseStrategies(const std::string& commaSeparated);

struct CleaningOptions {
  int detrendOrder = 1;  // 0 removes the mean only, 1 linear, 2 quadratic
  bool bandpass = true;
  double lowHz = 0.01, highHz = 0.1;
  int filterOrder = 5;
  double fdThreshold = 0.5;  // mm; <= 0 disables scrubbing
  bool zscore = true;
};

struct CleaningReport {
  std::vector<int> keptVolumes;  // indices into the input time points
  int censoredVolumes = 0;
  double meanFramewiseDisplacement = -1.0;  // < 0 when unknown
};

Eigen::MatrixXd detrend(const Eigen::MatrixXd& x, int order);
Eigen::MatrixXd butterworthBandpass(const Eigen::MatrixXd& x, double tr, double lowHz, double highHz, int order);
// Removes the least-squares fit of confounds, estimated on the rows in `fitRows` (all when empty).
Eigen::MatrixXd regressOut(const Eigen::MatrixXd& x, const Eigen::MatrixXd& confounds, const std::vector<int>& fitRows = {});
Eigen::MatrixXd zscoreColumns(const Eigen::MatrixXd& x);

// The whole sequence above. `confounds` may be null. Throws bg::Error when the result would have
// fewer than 10 time points or the TR is unknown while band-pass filtering is requested.
Eigen::MatrixXd clean(const Eigen::MatrixXd& series, double tr, const CleaningOptions& options, const Confounds* confounds, CleaningReport* report = nullptr);

}  // namespace bg
