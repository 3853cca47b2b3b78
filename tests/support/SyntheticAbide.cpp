#include "support/SyntheticAbide.h"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <stdexcept>

#include <zlib.h>

namespace bgtest {
namespace {

// The same numbers from a seed with every standard library (std::normal_distribution's are not fixed).
class Gaussian {
 public:
  explicit Gaussian(std::uint64_t seed) : state_(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
  double operator()() {
    const double u1 = (static_cast<double>(next() >> 11) + 0.5) / 9007199254740992.0;
    const double u2 = static_cast<double>(next() >> 11) / 9007199254740992.0;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t next() {  // splitmix64
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

constexpr int kNetworks = 7;

// AR(1) series with unit variance.
std::vector<double> slowSeries(Gaussian& g, int t, double phi) {
  std::vector<double> x(static_cast<std::size_t>(t));
  double v = g();
  const double s = std::sqrt(1 - phi * phi);
  for (auto& e : x) e = v = phi * v + s * g();
  return x;
}

}  // namespace

SyntheticAbide writeSyntheticAbide(const std::filesystem::path& dir, const SyntheticAbideSpec& spec) {
  SyntheticAbide out;
  out.phenotypes = dir / "Phenotypic_V1_0b_preprocessed1.csv";
  out.timeseries = dir / "rois_cc200";
  std::filesystem::create_directories(out.timeseries);
  std::ofstream csv(out.phenotypes);
  const bool shaped = !spec.shapedSites.empty();
  std::vector<SyntheticSite> sites = spec.shapedSites;
  if (!shaped)
    for (const auto& name : spec.sites) sites.push_back({name, spec.subjectsPerSite, 0});
  csv << "SUB_ID,SITE_ID,FILE_ID,DX_GROUP,AGE_AT_SCAN,SEX,func_mean_fd" << (shaped ? ",EYE_STATUS_AT_SCAN\n" : "\n");
  Gaussian g(spec.seed);
  int subject = 50001;
  for (std::size_t site = 0; site < sites.size(); ++site) {
    for (int k = 0; k < sites[site].subjects; ++k, ++subject) {
      const bool autism = k % 2 == 0;
      const std::string fileId = sites[site].name + "_00" + std::to_string(subject);
      const double age = !shaped ? 8.0 + 0.5 * (k % 20) : k < sites[site].children ? 7.0 + 0.25 * (k % 12) : 10.5 + 0.5 * (k % 16);
      char line[160];
      std::snprintf(line, sizeof line, "%d,%s,%s,%d,%.1f,%d,%.4f", subject, sites[site].name.c_str(), fileId.c_str(), autism ? 1 : 2, age, k % 3 == 0 ? 2 : 1,
                    0.05 + 0.01 * (k % 7));
      csv << line;
      if (shaped) csv << ',' << ((k / 2) % 2 == 0 ? 1 : 2);
      csv << '\n';
      std::vector<std::vector<double>> networks;
      for (int n = 0; n < kNetworks; ++n) networks.push_back(slowSeries(g, spec.timePoints, 0.6));
      const auto global = slowSeries(g, spec.timePoints, 0.8);
      const double siteGlobal = shaped ? 0.2 + 0.15 * static_cast<double>(site % 4) : 0.2 + 0.3 * static_cast<double>(site);
      std::string text;
      for (int r = 0; r < spec.rois; ++r) text += (r ? "\t#" : "#") + std::to_string(r + 1);
      text += '\n';
      std::vector<double> loading(static_cast<std::size_t>(spec.rois));
      for (int r = 0; r < spec.rois; ++r) {
        const int n = r % kNetworks;
        loading[static_cast<std::size_t>(r)] = 0.8 - (autism && n < 2 ? spec.classEffect : 0.0) + 0.1 * g();
      }
      for (int t = 0; t < spec.timePoints; ++t) {
        for (int r = 0; r < spec.rois; ++r) {
          const auto tt = static_cast<std::size_t>(t);
          const double v =
              100.0 * (loading[static_cast<std::size_t>(r)] * networks[static_cast<std::size_t>(r % kNetworks)][tt] + siteGlobal * global[tt] + 0.8 * g());
          char number[32];
          std::snprintf(number, sizeof number, "%s%.6f", r ? "\t" : "", v);
          text += number;
        }
        text += '\n';
      }
      const auto file = out.timeseries / (fileId + "_rois_cc200.1D.gz");
      gzFile gz = gzopen(file.c_str(), "wb");
      if (!gz || gzwrite(gz, text.data(), static_cast<unsigned>(text.size())) != static_cast<int>(text.size()) || gzclose(gz) != Z_OK)
        throw std::runtime_error("cannot write " + file.string());
      out.files.push_back(file);
    }
  }
  if (!csv.flush()) throw std::runtime_error("cannot write " + out.phenotypes.string());
  return out;
}

}  // namespace bgtest
