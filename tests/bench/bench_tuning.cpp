// bench_tuning: one training step of each adaptation method at the paper's configuration, one
// thread, batch of 32 Schaefer100-sized graphs (the setting of the public code's anchors), plus a
// MAML meta-step (first and second order) and prediction with explanations. Prints `name: value`.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <vector>

#include <torch/torch.h>

#include "BenchSupport.h"

#include "connectome/GraphInputTransform.h"
#include "eval/Metrics.h"
#include "eval/ModelComparison.h"
#include "eval/RegularisationSearch.h"
#include "eval/Results.h"
#include "jobs/Progress.h"
#include "model/DownstreamModel.h"
#include "train/EdgeReadoutFit.h"
#include "train/Explainer.h"
#include "train/MetaLearner.h"
#include "workspace/ArrayStore.h"
#include "workspace/CorpusDataset.h"
#include "workspace/Workspace.h"

using namespace bg;
using namespace bg::model;

using bgbench::randomFc;
using bgbench::secondsPer;

int main() {
  bgbench::useOneThread();
  torch::manual_seed(0);
  const BrainGfmConfig c;
  const int B = 32, N = 100;
  const auto text = torch::randn({c.textDimension});
  const auto in = makeGraphInput(randomFc(B, N), torch::ones({B, N}, torch::kBool), text, text, c);
  const auto labels = torch::randint(0, 2, {B}, torch::kLong);
  std::printf("batch: %d graphs of %d nodes, paper configuration, threads: 1 (medians of 5 rounds)\n", B, N);
  for (const auto& [method, prompt] : std::vector<std::pair<std::string, std::string>>{
           {"finetune", ""}, {"linear", ""}, {"lora", ""}, {"prefix", ""}, {"prompt", "node_mult+edge"}, {"prompt", "node_add"}}) {
    AdaptationSpec s;
    s.method = method;
    if (!prompt.empty()) s.prompt = prompt;
    DownstreamModel m(c, s, 2, N);
    m->attachAdapters();
    auto params = m->configureTrainable();
    torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-3));
    m->setTraining(true);
    const double step = secondsPer(3, [&] {
      opt.zero_grad();
      torch::nn::functional::cross_entropy(m->forward(in), labels).backward();
      opt.step();
    });
    const std::string name = prompt.empty() ? method : method + "_" + prompt;
    std::printf("%s_trainable_parameters: %lld\n", name.c_str(), static_cast<long long>(m->trainableCount()));
    std::printf("%s_train_graphs_per_s: %.1f\n", name.c_str(), B / step);
  }
  // MAML: an episode of 32 support + 8 query graphs, one inner step.
  AdaptationSpec s;
  s.method = "prompt";
  DownstreamModel m(c, s, 2, N);
  for (auto& p : m->parameters()) p.set_requires_grad(false);
  for (auto& p : m->promptAndHeadParameters()) p.set_requires_grad(true);
  m->eval();
  const auto query = makeGraphInput(randomFc(8, N), torch::ones({8, N}, torch::kBool), text, text, c);
  const auto qy = torch::randint(0, 2, {8}, torch::kLong);
  for (bool second : {false, true}) {
    train::MetaConfig mc;
    mc.secondOrder = second;
    train::MetaLearner learner(mc, c, m);
    const double t = secondsPer(2, [&] {
      const auto fast = learner.adapt(in, labels, second);
      torch::nn::functional::cross_entropy(m->forward(query, fast), qy).backward();
    });
    std::printf("maml_%s_order_episodes_per_s: %.2f\n", second ? "second" : "first", 1.0 / t);
  }
  // Prediction of one graph with its explanation (gradient x input + attention rollout).
  const auto one = makeGraphInput(randomFc(1, N), torch::ones({1, N}, torch::kBool), text, text, c);
  const double explainSeconds = secondsPer(5, [&] { (void)train::explain(m, one, 1); });
  std::printf("explain_graphs_per_s: %.1f\n", 1.0 / explainSeconds);

  // Tangent-space input for one ABIDE-sized fold: fit on 665 training scans of CC200 (200 ROIs, 150
  // time points), then transform all 739 (what evaluate does once per fold, on every core).
  {
    std::mt19937 rng(7);
    std::normal_distribution<double> g;
    const int rois = 200, timepoints = 150, training = 665, all = 739;
    std::vector<Eigen::MatrixXd> series, fc;
    for (int s = 0; s < all; ++s) {
      Eigen::MatrixXd x(timepoints, rois);
      for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = g(rng);
      const Eigen::VectorXd shared = x.col(0);
      for (int r = 1; r < rois; ++r) x.col(r) += (0.3 + 0.002 * (s % 50)) * shared;  // subject-specific correlation
      series.push_back(x);
      fc.push_back(pearson(x).matrix);
    }
    GraphInputSpec spec;
    spec.kind = "tangent";
    spec.standardiseEdges = true;
    const auto start = std::chrono::steady_clock::now();
    const auto t = GraphInputTransform::fit(spec, {fc.begin(), fc.begin() + training}, {series.begin(), series.begin() + training});
    const auto fitted = std::chrono::steady_clock::now();
    double checksum = 0;
    for (int s = 0; s < all; ++s) checksum += t.apply(fc[s], series[s])(0, 1);
    const auto done = std::chrono::steady_clock::now();
    std::printf("tangent_input_fit_%d_scans_s: %.2f\n", training, std::chrono::duration<double>(fitted - start).count());
    std::printf("tangent_input_apply_%d_scans_s: %.2f (checksum %.3f)\n", all, std::chrono::duration<double>(done - fitted).count(), checksum);
    // The same fit reporting to a progress delegate: in chunks of 32 scans, so that a cancel can stop it.
    NullProgress progress;
    const auto trackedStart = std::chrono::steady_clock::now();
    (void)GraphInputTransform::fit(spec, {fc.begin(), fc.begin() + training}, {series.begin(), series.begin() + training}, &progress);
    std::printf("tangent_input_fit_with_progress_%d_scans_s: %.2f\n", training,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - trackedStart).count());
    // Per-site standardisation of Pearson FC (fc-site) over ABIDE's 15 sites: fit, apply, and the size
    // of what a model file keeps (every site's per-edge mean and SD).
    std::vector<std::string> sites;
    for (int s = 0; s < all; ++s) sites.push_back("site-" + std::to_string(s % 15));
    const auto siteStart = std::chrono::steady_clock::now();
    const auto perSite = GraphInputTransform::fit(GraphInputSpec::fromName("fc-site"), {fc.begin(), fc.begin() + training}, {}, nullptr,
                                                  {sites.begin(), sites.begin() + training});
    const auto siteFitted = std::chrono::steady_clock::now();
    double siteChecksum = 0;
    for (int s = 0; s < all; ++s) siteChecksum += perSite.apply(fc[s], {}, sites[s])(0, 1);
    const auto siteDone = std::chrono::steady_clock::now();
    std::printf("fc_site_input_fit_%d_scans_15_sites_s: %.2f\n", training, std::chrono::duration<double>(siteFitted - siteStart).count());
    std::printf("fc_site_input_apply_%d_scans_ms: %.1f (checksum %.3f)\n", all, 1e3 * std::chrono::duration<double>(siteDone - siteFitted).count(),
                siteChecksum);
    std::printf("fc_site_input_model_file_json_mb: %.1f\n", static_cast<double>(perSite.toJson().dump().size()) / 1e6);
    // adapt-site: a new site's statistics from 30 of its unlabelled scans.
    const std::vector<Eigen::MatrixXd> newSite(fc.begin() + training, fc.begin() + training + 30);
    const double adaptSeconds = secondsPer(3, [&] {
      auto copy = perSite;
      copy.adaptSite("new-site", newSite, {});
    });
    std::printf("fc_site_adapt_new_site_30_scans_ms: %.1f\n", 1e3 * adaptSeconds);
    // adapt-site --labels: the same 30 scans with known classes (20 of one, 10 of the other), weighted to the training mix.
    std::vector<int> newSiteLabels(30, 0);
    for (int s = 0; s < 20; ++s) newSiteLabels[static_cast<std::size_t>(s)] = 1;
    const double labelledSeconds = secondsPer(3, [&] {
      auto copy = perSite;
      copy.adaptSite("new-site", newSite, {}, newSiteLabels, 0.47);
    });
    std::printf("fc_site_adapt_new_site_30_labelled_scans_ms: %.1f\n", 1e3 * labelledSeconds);
    // fc-combat: the same fit with ComBat's empirical-Bayes shrinkage iterated for every site's 20 100
    // edges, and a new site adapted (and shrunk) from 10 scans.
    const auto combatStart = std::chrono::steady_clock::now();
    const auto combat = GraphInputTransform::fit(GraphInputSpec::fromName("fc-combat"), {fc.begin(), fc.begin() + training}, {}, nullptr,
                                                 {sites.begin(), sites.begin() + training});
    std::printf("fc_combat_input_fit_%d_scans_15_sites_s: %.2f\n", training,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - combatStart).count());
    const std::vector<Eigen::MatrixXd> tenScans(fc.begin() + training, fc.begin() + training + 10);
    const double combatAdaptSeconds = secondsPer(3, [&] {
      auto copy = combat;
      copy.adaptSite("new-site", tenScans, {});
    });
    std::printf("fc_combat_adapt_new_site_10_scans_ms: %.1f\n", 1e3 * combatAdaptSeconds);
    // The "logreg" edge readout: the L2 logistic regression of one fold's 665 training scans (19 900
    // edges), fitted before BrainGFM trains on top of it.
    const auto storeDir = std::filesystem::temp_directory_path() / ("bench-edges-" + std::to_string(::getpid()));
    std::filesystem::remove_all(storeDir);
    {
      ArrayStore store(storeDir);
      std::vector<DatasetItem> items;
      for (int s = 0; s < training; ++s) {
        DatasetItem it;
        it.fcArray = store.put(fc[static_cast<std::size_t>(s)]);
        it.nodes = rois;
        it.label = s % 2;
        items.push_back(it);
      }
      model::BrainGfmConfig small;
      small.hidden = 32;
      model::AdaptationSpec spec;
      spec.method = "scratch";
      spec.edgeReadout = "logreg";
      model::DownstreamModel m(small, spec, 2, rois);
      const auto edgeStart = std::chrono::steady_clock::now();
      train::fitEdgeReadout(*m, store, items);
      std::printf("logreg_edge_readout_fit_%d_scans_cc200_s: %.2f\n", training,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - edgeStart).count());
    }
    std::filesystem::remove_all(storeDir);
  }
  {
    // The baselines' nested choice of C: one outer fold's training part of ABIDE's size (665 scans,
    // CC200 Fisher-z edges), five inner folds, a grid of 1 and of 5 values.
    std::mt19937 rng(5);
    std::normal_distribution<double> g;
    const Eigen::Index n = 665, p = 19900;
    Eigen::MatrixXd x(n, p);
    Eigen::VectorXi y(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      y(i) = static_cast<int>(i % 2);
      for (Eigen::Index j = 0; j < p; ++j) x(i, j) = g(rng) + (j < 200 ? 0.15 * y(i) : 0.0);
    }
    for (const auto& grid : {std::vector<double>{0.01}, std::vector<double>{0.001, 0.003, 0.01, 0.03, 0.1}}) {
      const auto start = std::chrono::steady_clock::now();
      const auto choice = chooseRegularisation(x, y, grid, "logreg", 5, 0);
      std::printf("choose_c_logreg_%d_scans_%zu_values_s: %.2f (chose %g)\n", static_cast<int>(n), grid.size(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), choice.c);
    }
  }
  {
    // compare's paired DeLong test on an ABIDE-sized set of out-of-fold predictions.
    std::mt19937 rng(9);
    std::normal_distribution<double> g;
    std::vector<int> y;
    std::vector<double> a, b;
    for (int i = 0; i < 739; ++i) {
      y.push_back(i % 2);
      a.push_back(0.8 * y.back() + g(rng));
      b.push_back(0.6 * y.back() + g(rng));
    }
    PairedAucTest test;
    const double ms = 1e3 * secondsPer(20, [&] { test = delongTest(y, a, b); });  // before printing test.p: argument order is unspecified
    std::printf("delong_paired_test_739_scans_ms: %.2f (p %.3g)\n", ms, test.p);

    // What the comparison window does on every change of corpus, split or reference: read the stored
    // comparison of the default 15 models, each with 739 out-of-fold predictions, and test them.
    const auto dir = std::filesystem::temp_directory_path() / ("bench-tuning-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    {
      auto ws = Workspace::create(dir);
      const nlohmann::json classes = {"control", "autism"};
      const auto methods = defaultComparisonMethods();
      for (std::size_t m = 0; m < methods.size(); ++m) {
        nlohmann::json predictions = nlohmann::json::array();
        for (int i = 0; i < 739; ++i) {
          const double margin = 0.05 * static_cast<double>(m) * y[static_cast<std::size_t>(i)] + g(rng);
          predictions.push_back(outOfFoldPrediction(1 + i % 10, {{"scan_id", i}, {"subject", std::to_string(i)}, {"site", "NYU"}}, classes,
                                                    y[static_cast<std::size_t>(i)], margin, 1 / (1 + std::exp(-margin))));
        }
        const nlohmann::json result = {{"method", methods[m]},
                                       {"label_fraction", 1.0},
                                       {"items", 739},
                                       {"split", {{"kind", "kfold"}, {"folds", 10}, {"seed", 0}}},
                                       {"metrics", {{"auc", {{"mean", 0.7}, {"sd", 0.05}, {"ci95", {0.65, 0.75}}}}}}};
        recordEvaluation(*ws, "abide-asd", {{"method", methods[m]}}, result, predictions);
      }
      StoredPairedComparison stored;
      const double storedMs = 1e3 * secondsPer(5, [&] {
                                const auto rows = comparisonTable(listEvaluations(*ws), "", "kfold");
                                stored = storedPairedComparison(*ws, rows, "logreg");
                              });
      std::printf("stored_comparison_15_models_739_scans_ms: %.1f (%zu paired tests)\n", storedMs, stored.rows.size());
    }
    std::filesystem::remove_all(dir);
  }
  return 0;
}
