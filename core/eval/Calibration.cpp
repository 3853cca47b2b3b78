#include "eval/Calibration.h"

#include <algorithm>
#include <cmath>

#include "errors/Error.h"

namespace bg {

double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

double negativeLogLikelihood(const std::vector<double>& margins, const std::vector<int>& labels, double t) {
  double nll = 0;
  for (std::size_t i = 0; i < margins.size(); ++i) {
    const double z = margins[i] / t;
    // log(1 + exp(-z)) for y = 1, log(1 + exp(z)) for y = 0, computed without overflow
    const double s = labels[i] == 1 ? -z : z;
    nll += s > 0 ? s + std::log1p(std::exp(-s)) : std::log1p(std::exp(s));
  }
  return margins.empty() ? 0.0 : nll / static_cast<double>(margins.size());
}

double fitTemperature(const std::vector<double>& margins, const std::vector<int>& labels) {
  if (margins.size() != labels.size()) throw Error(ErrorCode::Internal, "temperature scaling needs one label per score");
  const bool hasPos = std::count(labels.begin(), labels.end(), 1) > 0, hasNeg = std::count(labels.begin(), labels.end(), 0) > 0;
  if (!hasPos || !hasNeg) return 1.0;
  double a = std::log(0.05), b = std::log(20.0);
  const double g = (std::sqrt(5.0) - 1.0) / 2.0;
  double c = b - g * (b - a), d = a + g * (b - a);
  auto f = [&](double logT) { return negativeLogLikelihood(margins, labels, std::exp(logT)); };
  double fc = f(c), fd = f(d);
  for (int it = 0; it < 80 && b - a > 1e-6; ++it) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return std::exp(0.5 * (a + b));
}

std::vector<double> calibratedProbabilities(const std::vector<double>& margins, double t) {
  std::vector<double> p;
  p.reserve(margins.size());
  for (double m : margins) p.push_back(sigmoid(m / t));
  return p;
}

double expectedCalibrationError(const std::vector<double>& p, const std::vector<int>& labels, int bins) {
  if (p.size() != labels.size() || p.empty() || bins < 1) return 0.0;
  std::vector<double> conf(static_cast<std::size_t>(bins), 0.0), acc(static_cast<std::size_t>(bins), 0.0);
  std::vector<int> count(static_cast<std::size_t>(bins), 0);
  for (std::size_t i = 0; i < p.size(); ++i) {
    const bool predicted = p[i] >= 0.5;
    const double c = predicted ? p[i] : 1.0 - p[i];  // in [0.5, 1]
    const auto bin = static_cast<std::size_t>(std::min(bins - 1, static_cast<int>(c * bins)));
    conf[bin] += c;
    acc[bin] += (predicted == (labels[i] == 1)) ? 1.0 : 0.0;
    ++count[bin];
  }
  double ece = 0;
  for (std::size_t b = 0; b < conf.size(); ++b)
    if (count[b]) ece += std::abs(acc[b] - conf[b]) / static_cast<double>(p.size());
  return ece;
}

}  // namespace bg
