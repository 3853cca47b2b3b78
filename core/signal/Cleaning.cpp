#include "signal/Cleaning.h"

#include <cmath>
#include <complex>
#include <sstream>

#include <Eigen/QR>
#include <unsupported/Eigen/FFT>

#include "errors/Error.h"
#include "io/TextTable.h"
#include "platform/Strings.h"

namespace bg {

std::vector<std::string> parseStrategies(const std::string& commaSeparated) { return splitList(commaSeparated); }

Confounds loadFmriprepConfounds(const std::filesystem::path& tsv, const std::vector<std::string>& strategies) {
  return withContext("while reading confounds " + tsv.string(), [&] {
    const auto table = TextTable::read(tsv, '\t');
    std::vector<std::string> columns;
    const char* motion[] = {"trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"};
    for (const auto& s : strategies) {
      if (s == "motion6") {
        for (auto* m : motion) columns.emplace_back(m);
      } else if (s == "motion24") {
        for (auto* m : motion) {
          const std::string b = m;
          for (const auto& c : {b, b + "_derivative1", b + "_power2", b + "_derivative1_power2"}) columns.push_back(c);
        }
      } else if (s == "wm_csf") {
        columns.emplace_back("white_matter");
        columns.emplace_back("csf");
      } else if (s == "global_signal") {
        columns.emplace_back("global_signal");
      } else if (s == "acompcor") {
        for (int k = 0; k < 5; ++k) columns.push_back("a_comp_cor_0" + std::to_string(k));
      } else {
        throw Error(ErrorCode::Usage, "confound strategy '" + s + "' is not motion6, motion24, wm_csf, global_signal or acompcor");
      }
    }
    Confounds c;
    const auto T = static_cast<Eigen::Index>(table.rows());
    c.regressors.resize(T, static_cast<Eigen::Index>(columns.size()));
    auto value = [&](std::size_t row, int col) {
      const std::string& v = table.cell(row, col);
      if (v == "n/a" || v.empty()) return 0.0;  // first-row derivatives
      try {
        return std::stod(v);
      } catch (const std::exception&) {
        throw Error(ErrorCode::Data,
                    "column " + table.columns()[static_cast<std::size_t>(col)] + ", row " + std::to_string(row + 2) + ": '" + v + "' is not a number");
      }
    };
    for (std::size_t k = 0; k < columns.size(); ++k) {
      const int col = table.requireColumn(columns[k]);
      for (std::size_t r = 0; r < table.rows(); ++r) c.regressors(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(k)) = value(r, col);
    }
    c.names = columns;
    if (const int fd = table.columnIndex("framewise_displacement"); fd >= 0)
      for (std::size_t r = 0; r < table.rows(); ++r) c.framewiseDisplacement.push_back(value(r, fd));
    return c;
  });
}

Eigen::MatrixXd detrend(const Eigen::MatrixXd& x, int order) {
  if (order < 0) return x;
  const Eigen::Index T = x.rows();
  Eigen::MatrixXd basis(T, order + 1);
  for (Eigen::Index t = 0; t < T; ++t) {
    const double u = T > 1 ? 2.0 * static_cast<double>(t) / static_cast<double>(T - 1) - 1.0 : 0.0;  // in [-1, 1]
    for (int k = 0; k <= order; ++k) basis(t, k) = std::pow(u, k);
  }
  return regressOut(x, basis);
}

Eigen::MatrixXd regressOut(const Eigen::MatrixXd& x, const Eigen::MatrixXd& confounds, const std::vector<int>& fitRows) {
  if (confounds.cols() == 0) return x;
  if (confounds.rows() != x.rows())
    throw Error(ErrorCode::Data, "confounds have " + std::to_string(confounds.rows()) + " rows, the signals " + std::to_string(x.rows()) + " time points");
  Eigen::MatrixXd c = confounds, y = x;
  if (!fitRows.empty()) {
    c.resize(static_cast<Eigen::Index>(fitRows.size()), confounds.cols());
    y.resize(static_cast<Eigen::Index>(fitRows.size()), x.cols());
    for (std::size_t i = 0; i < fitRows.size(); ++i) {
      c.row(static_cast<Eigen::Index>(i)) = confounds.row(fitRows[i]);
      y.row(static_cast<Eigen::Index>(i)) = x.row(fitRows[i]);
    }
  }
  // Column-pivoting QR copes with collinear confounds (e.g. a constant column twice).
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(c);
  const Eigen::MatrixXd beta = qr.solve(y);
  return x - confounds * beta;
}

Eigen::MatrixXd butterworthBandpass(const Eigen::MatrixXd& x, double tr, double lowHz, double highHz, int order) {
  if (!(tr > 0)) throw Error(ErrorCode::Data, "band-pass filtering needs the repetition time (TR), which is unknown");
  const Eigen::Index T = x.rows();
  if (T < 3) return x;
  const double nyquist = 0.5 / tr;
  const bool lowPass = highHz > 0 && highHz < nyquist;
  const bool highPass = lowHz > 0;
  if (!lowPass && !highPass) return x;
  // Mirror the series at both ends: [reversed | x | reversed].
  const Eigen::Index L = 3 * T;
  std::vector<double> gain(static_cast<std::size_t>(L));
  for (Eigen::Index k = 0; k < L; ++k) {
    const double f = static_cast<double>(std::min(k, L - k)) / (static_cast<double>(L) * tr);
    double g = 1.0;
    if (lowPass) g *= 1.0 / (1.0 + std::pow(f / highHz, 2 * order));
    if (highPass) g *= f == 0 ? 0.0 : 1.0 / (1.0 + std::pow(lowHz / f, 2 * order));
    gain[static_cast<std::size_t>(k)] = g;
  }
  Eigen::FFT<double> fft;
  std::vector<double> padded(static_cast<std::size_t>(L)), back;
  std::vector<std::complex<double>> spectrum;
  Eigen::MatrixXd out(T, x.cols());
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    for (Eigen::Index t = 0; t < T; ++t) {
      padded[static_cast<std::size_t>(t)] = x(T - 1 - t, c);
      padded[static_cast<std::size_t>(T + t)] = x(t, c);
      padded[static_cast<std::size_t>(2 * T + t)] = x(T - 1 - t, c);
    }
    fft.fwd(spectrum, padded);
    for (std::size_t k = 0; k < spectrum.size(); ++k) spectrum[k] *= gain[k];
    fft.inv(back, spectrum);
    for (Eigen::Index t = 0; t < T; ++t) out(t, c) = back[static_cast<std::size_t>(T + t)];
  }
  return out;
}

Eigen::MatrixXd zscoreColumns(const Eigen::MatrixXd& x) {
  Eigen::MatrixXd out = x.rowwise() - x.colwise().mean();
  for (Eigen::Index c = 0; c < out.cols(); ++c) {
    const double sd = std::sqrt(out.col(c).squaredNorm() / static_cast<double>(std::max<Eigen::Index>(1, out.rows() - 1)));
    if (sd > 1e-12)
      out.col(c) /= sd;
    else
      out.col(c).setZero();
  }
  return out;
}

Eigen::MatrixXd clean(const Eigen::MatrixXd& series, double tr, const CleaningOptions& o, const Confounds* confounds, CleaningReport* report) {
  const Eigen::Index T = series.rows();
  if (T < 10) throw Error(ErrorCode::Data, "only " + std::to_string(T) + " time points; at least 10 are needed");
  if (confounds && confounds->regressors.rows() != T && confounds->regressors.cols() > 0)
    throw Error(ErrorCode::Data,
                "the confounds file has " + std::to_string(confounds->regressors.rows()) + " rows, the scan " + std::to_string(T) + " volumes");
  std::vector<int> kept;
  double meanFd = -1.0;
  if (confounds && !confounds->framewiseDisplacement.empty()) {
    double s = 0;
    for (double v : confounds->framewiseDisplacement) s += v;
    meanFd = s / static_cast<double>(confounds->framewiseDisplacement.size());
  }
  for (Eigen::Index t = 0; t < T; ++t) {
    const bool censor = o.fdThreshold > 0 && confounds && !confounds->framewiseDisplacement.empty() &&
                        confounds->framewiseDisplacement[static_cast<std::size_t>(t)] > o.fdThreshold;
    if (!censor) kept.push_back(static_cast<int>(t));
  }
  if (kept.size() < 10)
    throw Error(ErrorCode::Data, "scrubbing at FD > " + std::to_string(o.fdThreshold) + " mm leaves " + std::to_string(kept.size()) + " of " +
                                     std::to_string(T) + " volumes; at least 10 are needed");

  Eigen::MatrixXd x = detrend(series, o.detrendOrder);
  Eigen::MatrixXd c = confounds ? detrend(confounds->regressors, o.detrendOrder) : Eigen::MatrixXd(T, 0);
  if (o.bandpass) {
    x = butterworthBandpass(x, tr, o.lowHz, o.highHz, o.filterOrder);
    if (c.cols() > 0) c = butterworthBandpass(c, tr, o.lowHz, o.highHz, o.filterOrder);
  }
  if (c.cols() > 0) x = regressOut(x, c, kept.size() == static_cast<std::size_t>(T) ? std::vector<int>{} : kept);
  if (kept.size() != static_cast<std::size_t>(T)) {
    Eigen::MatrixXd k(static_cast<Eigen::Index>(kept.size()), x.cols());
    for (std::size_t i = 0; i < kept.size(); ++i) k.row(static_cast<Eigen::Index>(i)) = x.row(kept[i]);
    x = std::move(k);
  }
  if (o.zscore) x = zscoreColumns(x);
  if (report) {
    report->keptVolumes = kept;
    report->censoredVolumes = static_cast<int>(T) - static_cast<int>(kept.size());
    report->meanFramewiseDisplacement = meanFd;
  }
  return x;
}

}  // namespace bg
