#include "report/QualityControl.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "errors/Error.h"
#include "eval/Prediction.h"
#include "signal/Cleaning.h"

namespace bg {
using nlohmann::json;

namespace {

// Higher is better: pass at >= pass, warn at >= warn, else fail.
std::string atLeast(double v, double pass, double warn) { return v >= pass ? "pass" : v >= warn ? "warn" : "fail"; }
// Lower is better.
std::string atMost(double v, double pass, double warn) { return v <= pass ? "pass" : v <= warn ? "warn" : "fail"; }

int rank(const std::string& s) { return s == "fail" ? 2 : s == "warn" ? 1 : 0; }

constexpr const char* kNotChecked = "not checked";

}  // namespace

json QcThresholds::toJson() const {
  return {{"volumes_pass", volumesPass},   {"volumes_warn", volumesWarn},
          {"tr_pass_low", trPassLow},      {"tr_pass_high", trPassHigh},
          {"tr_warn_low", trWarnLow},      {"tr_warn_high", trWarnHigh},
          {"coverage_pass", coveragePass}, {"coverage_warn", coverageWarn},
          {"mean_fd_pass", meanFdPass},    {"mean_fd_warn", meanFdWarn},
          {"censor_fd_mm", censorFdMm},    {"censored_pass", censoredPass},
          {"censored_warn", censoredWarn}, {"incomplete", incompleteBlocks ? "block" : "warn"}};
}

QcThresholds QcThresholds::fromJson(const json& j) {
  QcThresholds t;
  const json known = t.toJson();
  if (j.contains("incomplete")) {
    const auto& v = j["incomplete"];
    if (!v.is_string() || (v != "warn" && v != "block"))
      throw Error(ErrorCode::Config, "QC threshold 'incomplete' must be \"warn\" or \"block\" (what an unchecked item such as motion does)");
    t.incompleteBlocks = v == "block";
  }
  for (const auto& [k, v] : j.items())
    if (k != "incomplete" && (!known.contains(k) || !v.is_number()))
      throw Error(ErrorCode::Config, "unknown or non-numeric QC threshold '" + k +
                                         "' (known: volumes_pass, volumes_warn, tr_*, coverage_*, "
                                         "mean_fd_*, censor_fd_mm, censored_*)");
  t.volumesPass = j.value("volumes_pass", t.volumesPass);
  t.volumesWarn = j.value("volumes_warn", t.volumesWarn);
  t.trPassLow = j.value("tr_pass_low", t.trPassLow);
  t.trPassHigh = j.value("tr_pass_high", t.trPassHigh);
  t.trWarnLow = j.value("tr_warn_low", t.trWarnLow);
  t.trWarnHigh = j.value("tr_warn_high", t.trWarnHigh);
  t.coveragePass = j.value("coverage_pass", t.coveragePass);
  t.coverageWarn = j.value("coverage_warn", t.coverageWarn);
  t.meanFdPass = j.value("mean_fd_pass", t.meanFdPass);
  t.meanFdWarn = j.value("mean_fd_warn", t.meanFdWarn);
  t.censorFdMm = j.value("censor_fd_mm", t.censorFdMm);
  t.censoredPass = j.value("censored_pass", t.censoredPass);
  t.censoredWarn = j.value("censored_warn", t.censoredWarn);
  return t;
}

std::string QcReport::overall() const {
  int worst = 0;
  for (const auto& i : items) worst = std::max(worst, rank(i.status));
  if (worst == 2) return "fail";
  if (!notChecked().empty()) return "incomplete";
  return worst == 1 ? "warn" : "pass";
}

std::vector<std::string> QcReport::notChecked() const {
  std::vector<std::string> out;
  for (const auto& i : items)
    if (i.status == kNotChecked) out.push_back(i.name);
  return out;
}

std::string QcReport::verdict() const {
  const auto o = overall();
  if (o != "incomplete") return o;
  // Both motion checks missing read "motion"; otherwise each missing check is named.
  bool meanFd = false, censored = false;
  std::string what;
  for (const auto& i : items) {
    if (i.status != kNotChecked) continue;
    meanFd = meanFd || i.id == "mean_fd";
    censored = censored || i.id == "censored";
    if (i.id == "mean_fd" || i.id == "censored") continue;
    std::string name = i.name;
    if (!name.empty()) name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
    what += (what.empty() ? "" : ", ") + name;
  }
  const std::string motion = meanFd && censored ? "motion" : meanFd ? "mean framewise displacement" : censored ? "censored volumes" : "";
  if (!motion.empty()) what = what.empty() ? motion : motion + ", " + what;
  return "incomplete — " + what + " not checked";
}

std::vector<std::string> QcReport::failures() const {
  std::vector<std::string> out;
  for (const auto& i : items)
    if (i.status == "fail")
      out.push_back(fmt::format("{} {} ({})", i.name, i.value ? fmt::format("{:.3g}", *i.value) : "?", i.rule));
    else if (i.status == kNotChecked && incompleteBlocks)
      out.push_back(fmt::format("{} not checked ({}; the site's QC blocks incomplete checks)", i.name, i.note));
  return out;
}

json QcReport::toJson() const {
  json rows = json::array();
  for (const auto& i : items)
    rows.push_back({{"id", i.id},
                    {"name", i.name},
                    {"unit", i.unit},
                    {"value", i.value ? json(*i.value) : json(nullptr)},
                    {"status", i.status},
                    {"rule", i.rule},
                    {"note", i.note}});
  return {{"items", rows}, {"overall", overall()}, {"verdict", verdict()}, {"not_checked", notChecked()}, {"incomplete", incompleteBlocks ? "block" : "warn"}};
}

QcReport QcReport::fromJson(const json& j) {
  QcReport r;
  r.incompleteBlocks = j.value("incomplete", std::string("warn")) == "block";
  for (const auto& row : j.at("items")) {
    QcItem i;
    i.id = row.value("id", "");
    i.name = row.value("name", "");
    i.unit = row.value("unit", "");
    if (row.contains("value") && row["value"].is_number()) i.value = row["value"].get<double>();
    i.status = row.value("status", kNotChecked);
    if (i.status == "n/a") i.status = kNotChecked;  // records written before the distinction
    i.rule = row.value("rule", "");
    i.note = row.value("note", "");
    r.items.push_back(i);
  }
  return r;
}

QcReport assessQuality(const PredictionInput& in, const QcThresholds& t, const std::optional<RecordedMotion>& recorded) {
  QcReport r;
  r.incompleteBlocks = t.incompleteBlocks;
  {
    QcItem i{"volumes", "Volumes", "", static_cast<double>(in.volumes), "", fmt::format("pass >= {:g}, warn >= {:g}, else fail", t.volumesPass, t.volumesWarn),
             ""};
    i.status = atLeast(in.volumes, t.volumesPass, t.volumesWarn);
    if (in.tr > 0) i.note = fmt::format("{:.1f} min of data", in.volumes * in.tr / 60.0);
    r.items.push_back(i);
  }
  {
    QcItem i{"tr", "Repetition time",
             "s",  std::nullopt,
             "",   fmt::format("pass {:g}-{:g} s, warn {:g}-{:g} s, else fail", t.trPassLow, t.trPassHigh, t.trWarnLow, t.trWarnHigh),
             ""};
    if (in.tr > 0) {
      i.value = in.tr;
      i.status = in.tr >= t.trPassLow && in.tr <= t.trPassHigh ? "pass" : in.tr >= t.trWarnLow && in.tr <= t.trWarnHigh ? "warn" : "fail";
    } else {
      i.status = "warn";
      i.note = "unknown: the file carries no repetition time";
    }
    r.items.push_back(i);
  }
  {
    const int rois = static_cast<int>(in.fc.rows());
    const double coverage = rois > 0 ? 1.0 - static_cast<double>(in.emptyRois.size()) / rois : 0.0;
    QcItem i{"roi_coverage",
             "ROI coverage",
             "",
             coverage,
             atLeast(coverage, t.coveragePass, t.coverageWarn),
             fmt::format("pass >= {:g}, warn >= {:g}, else fail", t.coveragePass, t.coverageWarn),
             fmt::format("{} of {} ROIs with signal", rois - static_cast<int>(in.emptyRois.size()), rois)};
    if (!in.emptyRois.empty()) i.note += fmt::format("; without: {}{}", in.emptyRois.front(), in.emptyRois.size() > 1 ? ", ..." : "");
    if (const auto bad = in.qc.is_object() ? in.qc.value("non_finite_voxels", std::int64_t{0}) : std::int64_t{0}; bad > 0)
      i.note += fmt::format("; {} voxels with NaN or infinite values left out", bad);
    r.items.push_back(i);
  }
  std::vector<double> fd;
  if (in.confounds) fd = loadFmriprepConfounds(*in.confounds, {}).framewiseDisplacement;
  const std::string why = in.confounds ? "the confounds file has no framewise_displacement column" : "no confounds file";
  {
    QcItem i{"mean_fd",   "Mean framewise displacement",
             "mm",        std::nullopt,
             kNotChecked, fmt::format("pass <= {:g} mm, warn <= {:g} mm, else fail", t.meanFdPass, t.meanFdWarn),
             why};
    std::vector<double> finite;
    for (double v : fd)
      if (std::isfinite(v)) finite.push_back(v);
    if (!finite.empty()) {
      double s = 0;
      for (double v : finite) s += v;
      i.value = s / static_cast<double>(finite.size());
      i.status = atMost(*i.value, t.meanFdPass, t.meanFdWarn);
      i.note = "from the confounds file";
    } else if (recorded && std::isfinite(recorded->meanFd)) {
      i.value = recorded->meanFd;
      i.status = atMost(recorded->meanFd, t.meanFdPass, t.meanFdWarn);
      i.note = "from " + recorded->source + " (" + why + ")";
    }
    r.items.push_back(i);
  }
  {
    QcItem i{"censored",
             "Censored volumes",
             "",
             std::nullopt,
             kNotChecked,
             fmt::format("FD > {:g} mm; pass <= {:g}, warn <= {:g}, else fail", t.censorFdMm, t.censoredPass, t.censoredWarn),
             why + (recorded ? " (a recorded mean FD has no per-volume values)" : "")};
    if (!fd.empty()) {
      int censored = 0;
      for (double v : fd)
        if (std::isfinite(v) && v > t.censorFdMm) ++censored;
      i.value = static_cast<double>(censored) / static_cast<double>(fd.size());
      i.status = atMost(*i.value, t.censoredPass, t.censoredWarn);
      i.note = fmt::format("{} of {} volumes", censored, fd.size());
    }
    r.items.push_back(i);
  }
  return r;
}

}  // namespace bg
