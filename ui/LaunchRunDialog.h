#pragma once
// Run › Launch: a form for pre-training, training, meta-training and evaluation runs with the paper's
// settings as defaults (resources/configs), inline validation, presets saved and loaded as JSON, the
// braingraph-cli arguments it stands for, the devices this machine has, and an estimate of time and
// memory measured by running the first seconds of the run (`braingraph-cli --estimate`); the run
// starts detached in the Runs dock. Only the fields the chosen run and method use are shown (advanced
// ones behind "Show advanced options"); the last launch's values come back in the next form.
#include <QDialog>
#include <QStringList>
#include <map>
#include <vector>
#include <nlohmann/json.hpp>

#include "eval/LaunchRequest.h"

class QCheckBox;
class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QProcess;
class QPushButton;
class QSpinBox;

namespace bg::ui {

class LaunchRunDialog : public QDialog {
  Q_OBJECT
 public:
  LaunchRunDialog(const QString& workspaceDir, QWidget* parent = nullptr);
  // The form's choices as plain values (eval/LaunchRequest.h decides what they mean).
  LaunchRequest request() const;
  // What is wrong with the form (empty: it can launch).
  QStringList problems() const;
  // The braingraph-cli arguments of the run (global options first).
  QStringList arguments() const;
  nlohmann::json preset() const;
  void applyPreset(const nlohmann::json& preset);
  bool savePreset(const QString& file) const;
  bool loadPreset(const QString& file);
  // The values of the last run launched from this workspace's form (kept in WORKSPACE/launch-last.json).
  void restoreLastLaunch();
  // Fills the device list: CPU with its cores, and each CUDA device (from `braingraph-cli info`).
  void setDevices(int cudaDevices, int cpuCores);
  // Starts the estimate (asynchronous); estimated() carries the CLI's JSON, or an error text.
  void estimate();
  QCheckBox* advancedOptions() const { return advanced_; }
  // Whether the form shows `field`'s row now (it uses the field, and it is not a folded advanced one).
  bool showsRow(QWidget* field) const;
  QString estimateText() const;
  // Meta-training: the tasks (corpora) ticked.
  QStringList tasks() const;
  void setTasks(const QStringList& corpora);

  QComboBox* kind() const { return kind_; }
  QComboBox* corpus() const { return corpus_; }
  QComboBox* method() const { return method_; }
  QComboBox* foundationModel() const { return foundationModel_; }
  QLineEdit* pretrained() const { return pretrained_; }
  QLineEdit* output() const { return output_; }
  QComboBox* config() const { return config_; }
  // Further configurations to choose among (train, evaluate: --config given again), checkable.
  QListWidget* alsoConfigs() const { return alsoConfigs_; }
  QSpinBox* epochs() const { return epochs_; }
  QComboBox* calibration() const { return calibration_; }
  QComboBox* input() const { return input_; }
  // evaluate: pre-train BrainGFM inside each fold (--pretrain-in-folds), with a pre-training
  // configuration (data: its file; "paper" for the defaults; empty: no pre-training in folds).
  QComboBox* pretrainInFolds() const { return pretrainInFolds_; }
  QSpinBox* ensemble() const { return ensemble_; }
  QCheckBox* ensembleFolds() const { return ensembleFolds_; }
  QCheckBox* crossAtlasViews() const { return crossAtlasViews_; }
  // train and evaluate of a graph model on several atlases: data "probability" (one model per atlas,
  // probabilities averaged) or "embedding" (one fused model, --atlas-fusion embedding).
  QComboBox* atlasFusion() const { return atlasFusion_; }
  QLabel* corpusAtlases() const { return corpusAtlasesLabel_; }
  QSpinBox* folds() const { return folds_; }
  QCheckBox* leaveSiteOut() const { return leaveSiteOut_; }
  QLineEdit* labels() const { return labels_; }
  // evaluate: the model's name in comparisons (--name).
  QLineEdit* name() const { return name_; }
  // logreg: C, or several to choose from inside each training part (--c 0.001,0.01,0.1).
  QLineEdit* regularisation() const { return regularisation_; }
  QComboBox* device() const { return device_; }
  QSpinBox* threads() const { return threads_; }
  QCheckBox* firstOrder() const { return firstOrder_; }
  QCheckBox* adaptNewSites() const { return adaptNewSites_; }
  QSpinBox* adaptScans() const { return adaptScans_; }
  QSpinBox* adaptShare() const { return adaptShare_; }
  QCheckBox* adaptLabelled() const { return adaptLabelled_; }
  QPushButton* estimateButton() const { return estimate_; }
  QPushButton* launchButton() const { return launch_; }

 Q_SIGNALS:
  void launchRequested(const QStringList& arguments);
  void estimated(const QString& text);

 private:
  void revalidate();
  QString workspace_;
  QComboBox *kind_, *corpus_, *method_, *foundationModel_, *config_, *calibration_, *input_, *device_, *pretrainInFolds_;
  QLineEdit *pretrained_, *output_, *name_, *regularisation_, *labels_;
  QSpinBox *epochs_, *ensemble_, *folds_, *threads_, *adaptScans_, *adaptShare_;
  QLabel *problems_, *estimateLabel_, *corpusAtlasesLabel_ = nullptr;
  QCheckBox* crossAtlasViews_ = nullptr;
  QComboBox* atlasFusion_ = nullptr;
  std::map<QString, QStringList> atlasesOfCorpus_;  // each corpus's parcellations (a multi-atlas corpus has several)
  QPushButton *launch_, *estimate_;
  QListWidget* tasks_;
  QListWidget* alsoConfigs_;
  QCheckBox *firstOrder_, *adaptNewSites_, *adaptLabelled_, *ensembleFolds_, *leaveSiteOut_;
  QProcess* estimator_ = nullptr;
  QFormLayout* form_ = nullptr;
  QCheckBox* advanced_ = nullptr;       // shows the rows most runs leave at their defaults
  std::map<QWidget*, QWidget*> rowOf_;  // a field -> the widget its form row holds (a field with a Browse button: their box)
};

}  // namespace bg::ui
