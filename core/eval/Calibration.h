#pragma once
// Calibration of two-class scores: temperature scaling (one scalar T dividing the logit margin,
// fitted by minimising the negative log-likelihood on validation data), Platt scaling (T and a bias),
// and the expected calibration error over equal-width confidence bins. Plain C++: the models hand
// over their logit margins.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bg {

// p = sigmoid(margin / temperature + bias). Temperature scaling keeps bias 0, so it never moves the
// 0.5 decision point; Platt scaling also fits the bias, which re-centres a model whose margins lean
// to one class.
struct Calibration {
  double temperature = 1.0;
  double bias = 0.0;
  double probability(double margin) const;
};

// Fits T in [0.05, 20] for p = sigmoid(margin / T) by golden-section search on log T (the NLL is
// unimodal in log T). Returns 1 when the data cannot inform it (empty or a single class).
double fitTemperature(const std::vector<double>& margins, const std::vector<int>& labels);

// A model card's calibration: "temperature" and "calibration_bias" (0 in files written before Platt
// scaling existed, which is what temperature scaling means).
Calibration cardCalibration(const nlohmann::json& card);

// Fits T in [0.05, 20] and a free bias by minimising the NLL: golden-section search on log T over
// the NLL minimised in the bias (a convex one-dimensional problem solved by safeguarded Newton).
// Returns {1, 0} when the data cannot inform it.
Calibration fitPlattScaling(const std::vector<double>& margins, const std::vector<int>& labels);
// "temperature", "platt" or "auto"; anything else is refused. "auto" lets Platt scaling earn its extra
// parameter (a bias fitted on a small validation split can make calibration worse on new scans): the
// bias is kept only when a likelihood-ratio test against temperature scaling finds it (chi-squared, one
// degree of freedom, p < 0.05). Temperature scaling when a class has fewer than 5 items.
Calibration fitCalibration(const std::string& method, const std::vector<double>& margins, const std::vector<int>& labels);
bool isCalibrationMethod(const std::string& method);
// How a card's calibration was done, in words (reports): the method and, for "auto", what it chose.
std::string calibrationDescription(const std::string& method, const Calibration& fitted);

double sigmoid(double x);
std::vector<double> calibratedProbabilities(const std::vector<double>& margins, double temperature);
std::vector<double> calibratedProbabilities(const std::vector<double>& margins, const Calibration& calibration);
double negativeLogLikelihood(const std::vector<double>& margins, const std::vector<int>& labels, double temperature, double bias = 0.0);

// ECE: the confidence max(p, 1 - p) of each prediction falls into one of `bins` equal-width bins;
// sum over bins of (bin size / n) * |accuracy in bin - mean confidence in bin|.
double expectedCalibrationError(const std::vector<double>& probability, const std::vector<int>& labels, int bins = 15);

}  // namespace bg
