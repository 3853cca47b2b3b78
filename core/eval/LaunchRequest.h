#pragma once
// What Run › Launch asks for, without widgets: the form's choices as plain values, which fields the
// chosen run and method use, what is wrong with the choices, and the braingraph-cli arguments they
// stand for. The dialog (ui/LaunchRunDialog) only copies its widgets into a LaunchRequest and shows
// what these functions say, so the rules are tested without a display and read like the CLI's own.
#include <string>
#include <vector>

namespace bg {

struct LaunchRequest {
  std::string workspace;
  std::string kind = "train";  // pretrain | train | evaluate | meta-train
  std::string corpus;
  std::vector<std::string> corpusAtlases;    // the corpus's parcellations (empty: unknown)
  std::vector<std::string> tasks;            // meta-train: the ticked corpora
  std::string method = "logreg";             // train, evaluate (a catalog name)
  std::string foundationModel = "braingfm";  // pretrain: braingfm | brainmass | lcm
  std::string pretrained;                    // a file to adapt (as typed)
  std::string config;                        // the configuration file (empty: the paper's defaults)
  std::vector<std::string> alsoConfigs;      // further configuration files to choose among (the main one excluded)
  std::string calibration;                   // empty: the configuration's
  std::string input;                         // a GraphInputSpec name; empty: the configuration's
  std::string pretrainInFolds;               // evaluate: a pre-training configuration file, "paper", or empty (none)
  std::string regularisation;                // the baselines' C, or a list
  std::string labels;                        // "100, 10, 1" (percent; empty: every label)
  std::string device = "auto";               // auto | cpu | cuda:N | unavailable
  std::string output, name;
  std::string atlasFusion = "probability";  // probability | embedding
  int epochs = 0, ensemble = 0, folds = 0, threads = 0, adaptScans = 0, adaptSharePercent = -1;
  bool ensembleFolds = true, crossAtlasViews = false, leaveSiteOut = false, firstOrder = false, adaptNewSites = false, adaptLabelled = false;
};

// The fields the chosen run and method use (the form shows and enables only these).
struct LaunchFields {
  bool method = false, foundationModel = false, corpus = false, tasks = false, firstOrder = false, pretrained = false, leaveSiteOut = false, folds = false,
       labels = false, name = false, pretrainInFolds = false, calibration = false, input = false, ensemble = false, ensembleFolds = false,
       crossAtlasViews = false, atlasFusion = false, regularisation = false, alsoConfigs = false, adaptNewSites = false, adaptScans = false, adaptShare = false,
       adaptLabelled = false;
};
LaunchFields launchFields(const LaunchRequest& r);

// "100, 10, 1" (percent) as label fractions; empty: {1}. Throws bg::Error (Usage) naming a bad entry,
// and for 0% (zero-shot needs a meta-learned model, which the form does not take).
std::vector<double> launchLabelFractions(const std::string& text);

// What is wrong with the choices (empty: the run can launch), one sentence each.
std::vector<std::string> launchProblems(const LaunchRequest& r);

// The braingraph-cli arguments of the run, global options first. Fields the run does not use are left out.
std::vector<std::string> launchArguments(const LaunchRequest& r);

}  // namespace bg
