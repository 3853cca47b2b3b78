// meta-train: BrainGFM's graph and language prompts meta-learned over several corpora (one task
// each), for few-shot and zero-shot use on tasks it has not seen.
#include "train/Experiment.h"

#include <spdlog/spdlog.h>
#include <torch/version.h>

#include "errors/Error.h"
#include "model/DownstreamModel.h"
#include "platform/Versions.h"
#include "train/MetaLearner.h"
#include "train/ModelFile.h"
#include "train/TuningSetup.h"
#include "workspace/Corpus.h"
#include "workspace/Workspace.h"

namespace bg::train {
using nlohmann::json;

json metaTrain(const model::MetaTrainRequest& r, ProgressDelegate& progress, torch::Device device) {
  if (r.out.empty()) throw Error(ErrorCode::Usage, "meta-train needs --out MODEL");
  if (r.corpora.empty()) throw Error(ErrorCode::Usage, "meta-train needs at least one --corpus (one task each)");
  auto ws = Workspace::open(r.workspace);
  auto config = MetaConfig::fromJson(r.configJson.empty() ? json::object() : json::parse(r.configJson));
  if (r.firstOrder) config.secondOrder = false;
  if (r.metaEpochs > 0) config.metaEpochs = r.metaEpochs;
  const auto pretrained = r.pretrained.empty() ? PretrainedFile{} : PretrainedFile::open(r.pretrained);
  auto modelConfig = !r.modelConfigJson.empty() ? model::BrainGfmConfig::fromJson(json::parse(r.modelConfigJson))
                     : !pretrained.empty()      ? pretrained.encoderConfig()
                                                : model::BrainGfmConfig{};
  std::vector<MetaTask> tasks;
  json taskRecords = json::array();
  int nodes = 0;
  for (const auto& name : r.corpora) {
    const auto manifest = loadCorpus(*ws, name);
    MetaTask t;
    t.name = name;
    t.items = partItems(manifest, 0, {"train", "validation", "test"}, ws->arrays());
    json rec;
    t.texts = corpusTaskTexts(manifest, modelConfig.textDimension, &rec);
    rec["corpus"] = name;
    rec["items"] = t.items.size();
    taskRecords.push_back(rec);
    nodes = std::max(nodes, maxNodes(t.items));
    tasks.push_back(std::move(t));
  }
  model::AdaptationSpec spec;
  spec.method = "prompt";
  spec.prompt = r.prompt;
  spec = model::AdaptationSpec::fromJson(spec.toJson());
  torch::manual_seed(config.seed);
  model::DownstreamModel m(modelConfig, spec, 2, nodes);
  json origin = {{"pretrained", nullptr}};
  if (!r.pretrained.empty()) {
    origin = {{"pretrained", r.pretrained}, {"pretrained_info", pretrained.loadEncoder(m->encoder)}};
    checkPretrainedInput(origin["pretrained_info"], GraphInputSpec{}, r.pretrained);  // prompts are meta-learned on Pearson FC
  } else {
    spdlog::warn("meta-training prompts on a randomly initialised backbone (give --pretrained MODEL for the paper's setting)");
  }
  MetaLearner learner(config, modelConfig, m, device);
  const auto history = learner.train(ws->arrays(), tasks, progress);
  const json card = {{"kind", kMetaKind},
                     {"format", 1},
                     {"model", modelConfig.toJson()},
                     {"adaptation", spec.toJson()},
                     {"meta", config.toJson()},
                     {"classes", {"negative", "positive"}},
                     {"max_nodes", nodes},
                     {"tasks", taskRecords},
                     {"origin", origin},
                     {"history", history.toJson()},
                     {"temperature", 1.0},
                     {"class_decision", "p(positive) = softmax(head([g ; g * t]))[1], t = the [T/D] token's output for the task's text"},
                     {"trainable_parameters",
                      [&] {
                        std::int64_t n = 0;
                        for (const auto& p : m->promptAndHeadParameters()) n += p.numel();
                        return n;
                      }()},
                     {"code_version", braingraphVersion()},
                     {"torch_version", TORCH_VERSION}};
  saveModelFile(r.out, m, card);
  return card;
}

}  // namespace bg::train
