#pragma once
// What each `--method` is, in one place: its family, the architecture it trains, whether it needs a
// pre-trained file (and of which architecture), the inputs, options and label regimes it takes, and
// the checks a request must pass. The CLI, the Launch form, the model comparison, evaluation and
// the diagnosis report ask this catalog instead of comparing method names. No torch, no Qt.
#include <optional>
#include <string>
#include <vector>

namespace bg {

enum class MethodFamily {
  Baseline,   // a convex fit on Fisher-z or tangent-space FC (logistic regression, linear SVM)
  BrainGfm,   // BrainGFM adapted by one of its tuning methods
  Zoo,        // another graph model: BrainMass, LCM and the paper's baselines
  PublicGfm,  // the public BrainGFM code's architecture, for imported checkpoints
};

// Whether a method adapts a pre-trained file.
enum class PretrainedUse {
  None,      // trains from scratch (or is a baseline)
  Optional,  // from scratch, or fine-tuned from a file of its own architecture
  Required,  // adapts a pre-trained encoder: --pretrained, or evaluate's pre-training in each fold
  Meta,      // uses a meta-learned prompt model (--meta) as it is
};

struct MethodInfo {
  std::string name;  // the --method value
  MethodFamily family = MethodFamily::Baseline;
  std::string displayName;   // for menus and reports
  std::string description;   // one sentence for tooltips and help
  std::string architecture;  // the model architecture it trains ("" for the baselines)
  std::string adaptation;    // BrainGFM's adaptation it runs ("" where the file decides: scratch or finetune)
  PretrainedUse pretrained = PretrainedUse::None;
  bool pretrainsInFolds = false;    // evaluate can pre-train its encoder inside each fold
  std::string features;             // baselines: "fisher" or "tangent"
  std::string classifier;           // baselines: "logreg" or "svm"
  std::vector<std::string> inputs;  // the --input values it takes (empty: every graph input)
  bool calibrates = true;           // takes --calibration (the SVM calibrates itself)
  bool writesModel = true;          // train writes a model file for it
  bool learnsFromLabels = true;     // false: zero-shot only
  bool severalAtlases = true;       // a corpus of several atlases: one model per atlas, probabilities averaged

  bool isBaseline() const { return family == MethodFamily::Baseline; }
  bool isGraphModel() const { return family != MethodFamily::Baseline; }
  // The architecture of the pre-trained file it adapts or can be pre-trained as ("" if none).
  std::string pretrainedArchitecture() const;
  // The key of a comparison's configuration file that configures it ("braingfm" for BrainGFM's methods).
  std::string configurationKey() const;
};

// Every method, in the order menus list them.
const std::vector<MethodInfo>& methodCatalog();
// The method of that name, or nullptr.
const MethodInfo* findMethod(const std::string& name);
// The method of that name; an unknown name is a usage error listing the known ones.
const MethodInfo& methodInfo(const std::string& name);
// "logreg, svm, ...; BrainGFM: finetune, ...; the model zoo: ..." for --method's help.
std::string methodListText();
// The names of one family, in catalog order.
std::vector<std::string> methodNames(MethodFamily family);

// The architectures `pretrain --model` pre-trains: braingfm, brainmass, lcm.
const std::vector<std::string>& pretrainableArchitectures();
bool isPretrainableArchitecture(const std::string& architecture);

// A run as the CLI or the Launch form describes it, for the checks both share.
struct MethodRequest {
  std::string kind = "evaluate";  // train or evaluate
  std::string method;
  bool hasPretrained = false;
  bool hasMeta = false;
  bool pretrainInFolds = false;
  std::string calibration;           // empty: the default
  bool regularisationGiven = false;  // --c
  int configurations = 0;            // --config files given
  int ensemble = 0;                  // 0: the configuration's
  bool ensembleValidationGiven = false;
  std::string input;  // empty: Pearson FC
  std::vector<double> labelFractions = {1.0};
};

// What is wrong with a request, as sentences naming the option; empty when it can run. The CLI
// refuses the first, the Launch form lists them all.
std::vector<std::string> methodProblems(const MethodRequest& r);

// The command-line options that describe the method part of a request (--method, --pretrained,
// --meta, --pretrain-in-folds, --calibration, --input), in the CLI's spelling.
struct MethodArguments {
  std::string method, pretrained, meta, calibration, input;
  bool pretrainInFolds = false;
};
std::vector<std::string> methodCommandLine(const MethodArguments& a);

}  // namespace bg
