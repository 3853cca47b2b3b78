#pragma once
// Calibration of two-class scores: temperature scaling (one scalar T dividing the logit margin,
// fitted by minimising the negative log-likelihood on validation data) and the expected calibration
// error over equal-width confidence bins. Plain C++: the models hand over their logit margins.
#include <vector>

namespace bg {

// Fits T in [0.05, 20] for p = sigmoid(margin / T) by golden-section search on log T (the NLL is
// unimodal in log T). Returns 1 when the data cannot inform it (empty or a single class).
double fitTemperature(const std::vector<double>& margins, const std::vector<int>& labels);

double sigmoid(double x);
std::vector<double> calibratedProbabilities(const std::vector<double>& margins, double temperature);
double negativeLogLikelihood(const std::vector<double>& margins, const std::vector<int>& labels, double temperature);

// ECE: the confidence max(p, 1 - p) of each prediction falls into one of `bins` equal-width bins;
// sum over bins of (bin size / n) * |accuracy in bin - mean confidence in bin|.
double expectedCalibrationError(const std::vector<double>& probability, const std::vector<int>& labels, int bins = 15);

}  // namespace bg
