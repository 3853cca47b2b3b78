// predict for a graph-model file: calibrated probabilities (an ensemble's averaged), a Monte Carlo
// dropout interval, the out-of-distribution check and the explanation, per input graph.
#include "train/Experiment.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "eval/Calibration.h"
#include "eval/OutOfDistribution.h"
#include "model/AtlasFusion.h"
#include "train/Explainer.h"
#include "train/ModelFile.h"
#include "train/TransformedGraphs.h"

namespace bg::train {
using nlohmann::json;

namespace {

// Monte Carlo dropout (Gal & Ghahramani 2016): the spread of the calibrated probability over
// stochastic forward passes. Seeded, so a prediction and its report can be reproduced exactly.
// An ensemble pools the passes of all its members.
json monteCarloInterval(const std::vector<model::GraphClassifier>& members, const std::vector<Calibration>& calibrations, const model::GraphBatchInput& in,
                        double dropout) {
  if (dropout <= 0) return nullptr;
  constexpr int kPasses = 30;
  torch::NoGradGuard ng;
  torch::manual_seed(20240601);
  std::vector<double> p;
  for (std::size_t j = 0; j < members.size(); ++j) {
    auto& m = *members[j];
    m.train();
    for (int k = 0; k < kPasses; ++k) p.push_back(calibrations[j].probability(model::logitMargin(m.forward(in)).item<double>()));
    m.eval();
  }
  std::sort(p.begin(), p.end());
  auto quantile = [&](double q) {
    const double pos = q * static_cast<double>(p.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const auto hi = std::min(lo + 1, p.size() - 1);
    return p[lo] + (pos - static_cast<double>(lo)) * (p[hi] - p[lo]);
  };
  return {
      {"low", quantile(0.025)},
      {"high", quantile(0.975)},
      {"method", members.size() > 1 ? "95% interval over 30 Monte Carlo dropout passes of each of the " + std::to_string(members.size()) + " ensemble members"
                                    : std::string("95% interval over 30 Monte Carlo dropout passes")}};
}

}  // namespace

json predictGraphs(const std::string& modelFile, const std::vector<model::GraphInput>& inputs, bool explainToo, ProgressDelegate& progress,
                   torch::Device device) {
  auto loaded = loadModelFile(modelFile, device);
  const auto& card = loaded.card;
  if (card.value("kind", "") != kDownstreamKind) throw Error(ErrorCode::Usage, modelFile + " is not a trained model (train --out)");
  const bool features = loaded.model->readsNodeFeatures();
  const auto config = features ? model::BrainGfmConfig::fromJson(card.at("model")) : model::BrainGfmConfig{};
  const auto texts = features ? taskTextsFromRecord(card.at("texts"), config.textDimension) : TaskTexts{};
  const double threshold = card.at("model").value("adjacency_threshold", 0.3);
  std::vector<Calibration> calibrations;
  if (card.contains("ensemble") && card["ensemble"].is_array())
    for (const auto& member : card["ensemble"]) calibrations.push_back(cardCalibration(member));
  else
    calibrations.push_back(cardCalibration(card));
  if (calibrations.size() != loaded.members.size()) throw Error(ErrorCode::Data, modelFile + ": the card's ensemble does not match the stored members");
  const int expected = card.at("nodes").get<int>();
  const auto inputTransform = card.contains("input_transform") ? GraphInputTransform::fromJson(card["input_transform"]) : GraphInputTransform{};
  const auto fusion = std::dynamic_pointer_cast<model::AtlasFusionClassifierImpl>(loaded.model);
  // One graph (a scan in one atlas) as model input: checked against the atlas's node count, transformed as trained.
  const auto graphInput = [&](const model::GraphInput& g, int nodes, const std::string& atlas, const torch::Tensor& atlasText) {
    if (g.nodes != nodes)
      throw Error(ErrorCode::Data, "has " + std::to_string(g.nodes) + " ROIs but the model was trained on " + atlas + " (" + std::to_string(nodes) + " ROIs)");
    for (float v : g.fc)
      if (!std::isfinite(v)) throw Error(ErrorCode::Data, "its connectivity matrix holds NaN or infinite values");
    auto fc = torch::from_blob(const_cast<float*>(g.fc.data()), {1, g.nodes, g.nodes}, torch::kFloat32).clone();
    if (!inputTransform.identity()) {
      using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      if (inputTransform.spec().needsSeries() && g.series.size() != static_cast<std::size_t>(g.timepoints) * static_cast<std::size_t>(g.nodes))
        throw Error(ErrorCode::Data, "the model reads tangent-space connectivity, which needs the scan's ROI time series");
      Eigen::MatrixXd series;
      if (inputTransform.spec().needsSeries()) series = Eigen::Map<const RowMajorF>(g.series.data(), g.timepoints, g.nodes).cast<double>();
      const Eigen::MatrixXf t = inputTransform.apply(Eigen::Map<const RowMajorF>(g.fc.data(), g.nodes, g.nodes).cast<double>(), series, g.site).cast<float>();
      if (!inputTransform.knowsSite(g.site))
        spdlog::warn("{}: the model standardises its input per acquisition site and {}; the statistics pooled over its training sites serve", g.file,
                     g.site.empty() ? std::string("no site was given (predict --site)")
                                    : "site '" + g.site + "' is not one of them (adapt-site gives a new site its own from a few of its scans)");
      Eigen::Map<RowMajorF>(fc.data_ptr<float>(), g.nodes, g.nodes) = t;
    }
    fc = fc.to(device);
    auto mask = torch::ones({1, g.nodes}, torch::kBool).to(device);
    return features ? model::makeGraphInput(fc, mask, texts.task.to(device), atlasText.to(device), config) : model::makeFcInput(fc, mask, threshold);
  };
  json out = json::array();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& g = inputs[i];
    withContext("while predicting " + g.file, [&] {
      auto in = graphInput(g, expected, card.value("atlas", ""), texts.atlas);
      if (fusion) {
        const auto& atlases = fusion->atlases();
        if (g.views.size() + 1 != atlases.size())
          throw Error(ErrorCode::Data, "the fused model reads each scan in " + std::to_string(atlases.size()) + " atlases; " +
                                           std::to_string(g.views.size() + 1) + " were given");
        for (std::size_t v = 0; v + 1 < atlases.size(); ++v)
          in.views.push_back(withContext("while reading its " + atlases[v + 1] + " graph (" + g.views[v].file + ")", [&] {
            return graphInput(g.views[v], card.at("atlas_nodes").at(v + 1).get<int>(), atlases[v + 1], features ? texts.viewAtlases.at(v) : torch::Tensor());
          }));
      }
      double p = 0;  // an ensemble's: the mean of its members' calibrated probabilities
      {
        torch::NoGradGuard ng;
        for (std::size_t k = 0; k < loaded.members.size(); ++k)
          p += calibrations[k].probability(model::logitMargin(loaded.members[k]->forward(in)).item<double>()) / static_cast<double>(loaded.members.size());
      }
      const auto& classes = card.at("classes");
      json row = {{"file", g.file}, {"label", p >= 0.5 ? classes[1] : classes[0]}, {"probability", p}, {"positive_class", classes[1]}, {"model", modelFile}};
      row["interval"] = monteCarloInterval(loaded.members, calibrations, in, loaded.model->dropoutRate());
      if (loaded.members.size() > 1) row["ensemble"] = loaded.members.size();
      row["architecture"] = loaded.model->architecture();
      if (inputTransform.spec().perSite)
        row["site_statistics"] = {{"site", g.site}, {"own", inputTransform.knowsSite(g.site)}, {"adapted", inputTransform.siteAdapted(g.site)}};
      if (card.contains("ood") && !card["ood"].is_null()) {
        torch::NoGradGuard ng;
        std::vector<json> assessments;
        for (std::size_t k = 0; k < loaded.members.size(); ++k) {
          const json& reference = k == 0 ? card["ood"] : card["ensemble"][k].value("ood", json());
          if (reference.is_null()) continue;  // a file from before members had their own
          const auto e = loaded.members[k]->embed(in).to(torch::kCPU).to(torch::kDouble).contiguous();
          assessments.push_back(assessOod(reference, Eigen::Map<const Eigen::VectorXd>(e.data_ptr<double>(), e.numel())));
        }
        row["ood"] = combineOod(assessments);
      }
      if (fusion) {  // each atlas's network explains its own additive part of the decision (of the first ensemble member)
        json perAtlas = json::array(), top = json::array();
        std::map<std::string, double> share;  // each network's share within each atlas, averaged over the atlases
        for (std::size_t k = 0; k < fusion->atlases().size(); ++k) {
          const auto& gk = k == 0 ? g : g.views[k - 1];
          const auto ek = explain(fusion->members()[k], model::AtlasFusionClassifierImpl::view(in, k), 1).toJson(gk.roiNames, gk.networks);
          for (auto roi : ek["top_rois"]) {
            roi["atlas"] = fusion->atlases()[k];
            roi["relative_saliency"] = roi["saliency"].get<double>() * gk.nodes;  // against the atlas's even share
            top.push_back(roi);
          }
          for (const auto& [net, v] : ek.at("networks").items()) share[net] += v.at("saliency").get<double>() / static_cast<double>(fusion->atlases().size());
          perAtlas.push_back({{"atlas", fusion->atlases()[k]}, {"explanation", ek}});
        }
        json networks = json::object();
        for (const auto& [net, v] : share) networks[net] = {{"saliency", v}};
        std::stable_sort(top.begin(), top.end(),
                         [](const json& a, const json& b) { return a["relative_saliency"].get<double>() > b["relative_saliency"].get<double>(); });
        if (top.size() > 10) top.erase(top.begin() + 10, top.end());
        row["top_rois"] = top;
        row["explanation"] = {{"atlases", perAtlas}, {"top_rois", top}, {"networks", networks}};  // diagnose's report reads the networks
        out.push_back(row);
        return;
      }
      auto e = explain(loaded.model, in, 1);
      for (std::size_t k = 1; k < loaded.members.size(); ++k) {  // an ensemble's: the members' explanations averaged
        const auto ek = explain(loaded.members[k], in, 1);
        const double w = 1.0 / static_cast<double>(k + 1);
        auto blend = [w](std::vector<double>& mean, const std::vector<double>& next) {
          for (std::size_t n = 0; n < mean.size() && n < next.size(); ++n) mean[n] += w * (next[n] - mean[n]);
        };
        blend(e.roiAttention, ek.roiAttention);
        blend(e.roiSaliency, ek.roiSaliency);
        blend(e.edgeSaliency, ek.edgeSaliency);
      }
      auto ej = e.toJson(g.roiNames, g.networks);
      row["top_rois"] = ej["top_rois"];
      if (explainToo) row["explanation"] = ej;
      out.push_back(row);
    });
    if (progress.update("predicted " + std::to_string(i + 1) + " of " + std::to_string(inputs.size()),
                        static_cast<double>(i + 1) / static_cast<double>(inputs.size())))
      throw CancelledError();
  }
  return out;
}

}  // namespace bg::train
