#include "eval/Calibration.h"

#include <algorithm>
#include <cmath>

#include "errors/Error.h"

namespace bg {

double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

double Calibration::probability(double margin) const { return sigmoid(margin / temperature + bias); }

Calibration cardCalibration(const nlohmann::json& card) { return {card.value("temperature", 1.0), card.value("calibration_bias", 0.0)}; }

double negativeLogLikelihood(const std::vector<double>& margins, const std::vector<int>& labels, double t, double bias) {
  double nll = 0;
  for (std::size_t i = 0; i < margins.size(); ++i) {
    const double z = margins[i] / t + bias;
    // log(1 + exp(-z)) for y = 1, log(1 + exp(z)) for y = 0, computed without overflow
    const double s = labels[i] == 1 ? -z : z;
    nll += s > 0 ? s + std::log1p(std::exp(-s)) : std::log1p(std::exp(s));
  }
  return margins.empty() ? 0.0 : nll / static_cast<double>(margins.size());
}

namespace {

bool bothClasses(const std::vector<double>& margins, const std::vector<int>& labels) {
  if (margins.size() != labels.size()) throw Error(ErrorCode::Internal, "calibration needs one label per score");
  return std::count(labels.begin(), labels.end(), 1) > 0 && std::count(labels.begin(), labels.end(), 0) > 0;
}

// Golden-section search for the minimum of a unimodal f on [a, b]; returns the argument.
template <class F>
double goldenMinimum(F f, double a, double b) {
  const double g = (std::sqrt(5.0) - 1.0) / 2.0;
  double c = b - g * (b - a), d = a + g * (b - a);
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
  return 0.5 * (a + b);
}

// The bias minimising the NLL at temperature t: Newton on a convex function, halving a step that
// does not lower the NLL, and bounded so separable data cannot push it to infinity.
double bestBias(const std::vector<double>& margins, const std::vector<int>& labels, double t) {
  constexpr double kLimit = 20.0;
  double b = 0, nll = negativeLogLikelihood(margins, labels, t, b);
  for (int it = 0; it < 60; ++it) {
    double grad = 0, hess = 1e-12;
    for (std::size_t i = 0; i < margins.size(); ++i) {
      const double p = sigmoid(margins[i] / t + b);
      grad += p - (labels[i] == 1 ? 1.0 : 0.0);
      hess += p * (1.0 - p);
    }
    double step = grad / hess, next = std::clamp(b - step, -kLimit, kLimit), nextNll = negativeLogLikelihood(margins, labels, t, next);
    for (int half = 0; half < 30 && nextNll > nll; ++half) {
      step *= 0.5;
      next = std::clamp(b - step, -kLimit, kLimit);
      nextNll = negativeLogLikelihood(margins, labels, t, next);
    }
    if (nextNll > nll || std::abs(next - b) < 1e-10) break;
    b = next;
    nll = nextNll;
  }
  return b;
}

}  // namespace

double fitTemperature(const std::vector<double>& margins, const std::vector<int>& labels) {
  if (!bothClasses(margins, labels)) return 1.0;
  return std::exp(goldenMinimum([&](double logT) { return negativeLogLikelihood(margins, labels, std::exp(logT)); }, std::log(0.05), std::log(20.0)));
}

Calibration fitPlattScaling(const std::vector<double>& margins, const std::vector<int>& labels) {
  if (!bothClasses(margins, labels)) return {};
  // The NLL minimised over the bias is convex in 1/T, hence unimodal in log T.
  const double t = std::exp(goldenMinimum(
      [&](double logT) {
        const double temperature = std::exp(logT);
        return negativeLogLikelihood(margins, labels, temperature, bestBias(margins, labels, temperature));
      },
      std::log(0.05), std::log(20.0)));
  return {t, bestBias(margins, labels, t)};
}

namespace {
// Temperature scaling is Platt scaling with the bias fixed at 0: nested models, so twice the
// log-likelihood gain of the bias is chi-squared with one degree of freedom when no bias is needed.
Calibration chooseCalibrationByLikelihoodRatio(const std::vector<double>& margins, const std::vector<int>& labels) {
  const Calibration temperature{fitTemperature(margins, labels), 0.0};
  const auto positives = std::count(labels.begin(), labels.end(), 1);
  const auto negatives = static_cast<std::ptrdiff_t>(labels.size()) - positives;
  if (positives < 5 || negatives < 5) return temperature;
  const auto platt = fitPlattScaling(margins, labels);
  const double n = static_cast<double>(labels.size());
  const double statistic =
      2.0 * n * (negativeLogLikelihood(margins, labels, temperature.temperature) - negativeLogLikelihood(margins, labels, platt.temperature, platt.bias));
  constexpr double kChiSquared1At005 = 3.841459;
  return statistic > kChiSquared1At005 ? platt : temperature;
}
}  // namespace

bool isCalibrationMethod(const std::string& method) { return method == "temperature" || method == "platt" || method == "auto"; }

Calibration fitCalibration(const std::string& method, const std::vector<double>& margins, const std::vector<int>& labels) {
  if (method == "temperature") return {fitTemperature(margins, labels), 0.0};
  if (method == "platt") return fitPlattScaling(margins, labels);
  if (method == "auto") return chooseCalibrationByLikelihoodRatio(margins, labels);
  throw Error(ErrorCode::Config, "unknown calibration '" + method + "' (temperature, platt or auto)");
}

std::string calibrationDescription(const std::string& method, const Calibration& fitted) {
  const bool platt = method == "platt" || (method == "auto" && fitted.bias != 0.0);
  std::string d = platt ? "Platt scaling (temperature and bias)" : "temperature scaling";
  d += " fitted on the model's validation split";
  if (method == "auto")
    d += platt ? ", its bias kept because a likelihood-ratio test there found it needed (p < 0.05)"
               : ", a bias (Platt scaling) not being needed there by a likelihood-ratio test (p >= 0.05)";
  return d;
}

std::vector<double> calibratedProbabilities(const std::vector<double>& margins, double t) { return calibratedProbabilities(margins, Calibration{t, 0.0}); }

std::vector<double> calibratedProbabilities(const std::vector<double>& margins, const Calibration& calibration) {
  std::vector<double> p;
  p.reserve(margins.size());
  for (double m : margins) p.push_back(calibration.probability(m));
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
