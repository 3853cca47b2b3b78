#include "LaunchRunDialog.h"

#include <algorithm>
#include <fstream>

#include <QCheckBox>
#include <QComboBox>
#include <QCompleter>
#include <QJsonDocument>
#include <QJsonObject>
#include <QListWidget>
#include <QProcess>
#include <QThread>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "EngineInfo.h"
#include "eval/LaunchRequest.h"
#include "connectome/SiteStandardizer.h"
#include "io/AtomicFile.h"
#include "methods/MethodCatalog.h"
#include "settings/DataPaths.h"
#include "workspace/Corpus.h"
#include "workspace/Workspace.h"

namespace bg::ui {
using nlohmann::json;

LaunchRunDialog::LaunchRunDialog(const QString& workspaceDir, QWidget* parent) : QDialog(parent), workspace_(workspaceDir) {
  setWindowTitle(tr("Launch a Run"));
  kind_ = new QComboBox(this);
  kind_->addItems({QStringLiteral("pretrain"), QStringLiteral("train"), QStringLiteral("meta-train"), QStringLiteral("evaluate")});
  kind_->setToolTip(
      tr("Pre-train BrainGFM, train a model on a whole corpus, meta-train a graph prompt over several tasks (MAML), or "
         "cross-validate a method"));
  corpus_ = new QComboBox(this);
  corpus_->setToolTip(tr("The corpus (labels and split) the run uses"));
  tasks_ = new QListWidget(this);
  tasks_->setToolTip(tr("meta-train: the tasks (two-class corpora) to meta-learn the prompt over"));
  tasks_->setMaximumHeight(90);
  try {
    auto ws = Workspace::open(workspace_.toStdString());
    for (const auto& c : listCorpora(*ws)) {
      corpus_->addItem(QString::fromStdString(c));
      try {
        QStringList atlases;
        for (const auto& a : bg::corpusAtlases(loadCorpus(*ws, c))) atlases << QString::fromStdString(a);
        atlasesOfCorpus_[QString::fromStdString(c)] = atlases;
      } catch (const std::exception& e) {
        spdlog::warn("launch: corpus {}: {}", c, e.what());
      }
      auto* item = new QListWidgetItem(QString::fromStdString(c), tasks_);
      item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
      item->setCheckState(Qt::Unchecked);
    }
  } catch (const std::exception& e) {
    spdlog::warn("launch: no corpora: {}", e.what());
  }
  method_ = new QComboBox(this);
  // Every method that learns from labels; zero-shot (a meta-learned model) and the public architecture
  // (adapted through BrainGFM's methods with an imported file) are the CLI's.
  for (const auto& m : methodCatalog())
    if (m.learnsFromLabels && m.family != MethodFamily::PublicGfm) {
      method_->addItem(QString::fromStdString(m.name));
      method_->setItemData(method_->count() - 1, QString::fromStdString(m.displayName + ": " + m.description), Qt::ToolTipRole);
    }
  method_->setToolTip(
      tr("How the model adapts (train, evaluate): BrainGFM's tuning methods, the classical baselines (logistic "
         "regression and linear SVM on Fisher-z or tangent-space FC; train writes the logistic regressions), or another model of the zoo "
         "(BrainMass, LCM and the paper's baselines)"));
  foundationModel_ = new QComboBox(this);
  for (const auto& architecture : pretrainableArchitectures()) foundationModel_->addItem(QString::fromStdString(architecture));
  foundationModel_->setToolTip(
      tr("Which foundation model to pre-train: BrainGFM (GCL + GMAE), BrainMass (BYOL + mask-ROI "
         "modelling on pseudo-FC views) or LCM (multitask on the workspace's phenotypes)"));
  pretrained_ = new QLineEdit(this);
  pretrained_->setToolTip(
      tr("Pre-trained encoder (a pretrain run's output, or a published BrainGFM checkpoint imported with File › Import "
         "Pre-trained Model: finetune, prompt, LoRA and linear then adapt the public architecture); needed by finetune, "
         "prompt, LoRA, prefix and linear"));
  {
    // The workspace's model files (pre-training outputs and imported checkpoints) as suggestions.
    QStringList models;
    for (const auto& f : QDir(workspaceDir + QStringLiteral("/models")).entryInfoList({QStringLiteral("*.pt")}, QDir::Files, QDir::Time))
      models << f.absoluteFilePath();
    auto* completer = new QCompleter(models, pretrained_);
    completer->setCompletionMode(QCompleter::UnfilteredPopupCompletion);
    pretrained_->setCompleter(completer);
    pretrained_->setPlaceholderText(models.isEmpty() ? tr("a pre-training or imported model file")
                                                     : tr("%n model file(s) in the workspace", nullptr, models.size()));
  }
  pretrainInFolds_ = new QComboBox(this);
  pretrainInFolds_->addItem(tr("no (the Pre-trained file)"), QString());
  pretrainInFolds_->addItem(tr("in each fold, paper defaults"), QStringLiteral("paper"));
  for (const auto& f : QDir(QString::fromStdString(DataPaths::resourceDir().string()) + QStringLiteral("/configs"))
                           .entryInfoList({QStringLiteral("*pretrain*.json")}, QDir::Files, QDir::Name))
    pretrainInFolds_->addItem(tr("in each fold, %1").arg(f.fileName()), f.absoluteFilePath());
  pretrainInFolds_->setToolTip(
      tr("evaluate, BrainGFM finetune, prompt, LoRA, prefix and linear: pre-train the encoder on each fold's "
         "training part only (never its test scans; cached in the workspace), with this pre-training "
         "configuration; with another Input than Pearson FC the encoder pre-trains on that input"));
  config_ = new QComboBox(this);
  config_->setToolTip(tr("Configuration: the paper's settings, or one of the shipped presets"));
  config_->addItem(tr("paper defaults"), QString());
  for (const auto& f : QDir(QString::fromStdString(DataPaths::resourceDir().string()) + QStringLiteral("/configs"))
                           .entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Name))
    config_->addItem(f.fileName(), f.absoluteFilePath());
  alsoConfigs_ = new QListWidget(this);
  alsoConfigs_->setToolTip(
      tr("train, evaluate (graph models): also try these configurations beside the one above; evaluate keeps, in "
         "each fold, the one with the best AUC on the fold's validation scans (never its test scans), train the "
         "best on its own validation split. Every candidate trains in every fold, so the run takes that many times longer"));
  alsoConfigs_->setMaximumHeight(90);
  for (const auto& f : QDir(QString::fromStdString(DataPaths::resourceDir().string()) + QStringLiteral("/configs"))
                           .entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
    if (f.fileName().contains(QLatin1String("pretrain")) || f.fileName().contains(QLatin1String("compare"))) continue;  // not tuning configurations
    auto* item = new QListWidgetItem(f.fileName(), alsoConfigs_);
    item->setData(Qt::UserRole, f.absoluteFilePath());
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Unchecked);
  }
  calibration_ = new QComboBox(this);
  calibration_->addItem(tr("from the configuration"), QString());
  calibration_->addItem(QStringLiteral("temperature"), QStringLiteral("temperature"));
  calibration_->addItem(QStringLiteral("platt"), QStringLiteral("platt"));
  calibration_->addItem(QStringLiteral("auto"), QStringLiteral("auto"));
  calibration_->setToolTip(
      tr("train, evaluate: how probabilities are calibrated on the validation split — temperature scaling "
         "(the default), Platt scaling, which also fits a bias and so re-centres the 0.5 decision, or auto: "
         "Platt's bias only where a likelihood-ratio test on the validation split finds it (p < 0.05)"));
  input_ = new QComboBox(this);
  input_->addItem(tr("from the configuration"), QString());
  input_->addItem(tr("Pearson FC"), QStringLiteral("fc"));
  input_->addItem(tr("Pearson FC, edges z-scored"), QStringLiteral("fc-z"));
  input_->addItem(tr("tangent-space FC"), QStringLiteral("tangent"));
  input_->addItem(tr("tangent-space FC, edges z-scored"), QStringLiteral("tangent-z"));
  input_->addItem(tr("Pearson FC, edges z-scored per site"), QStringLiteral("fc-site"));
  input_->addItem(tr("tangent-space FC, edges z-scored per site"), QStringLiteral("tangent-site"));
  input_->addItem(tr("Pearson FC, per site with ComBat shrinkage"), QStringLiteral("fc-combat"));
  input_->addItem(tr("tangent-space FC, per site with ComBat shrinkage"), QStringLiteral("tangent-combat"));
  input_->setToolTip(
      tr("train, evaluate, from scratch: what the model reads — the stored Pearson FC, or tangent-space FC "
         "against the training scans' geometric mean; z-scored: every edge standardised over the training scans; "
         "per site: over the training scans of the scan's own acquisition site (site harmonisation; evaluate "
         "with logreg takes it too); ComBat shrinkage: each site's statistics pulled toward that site's typical "
         "edge by empirical Bayes, steadier for small sites. Everything is fitted on the training folds only and travels with the model file. "
         "pretrain (BrainGFM): the input the encoder learns; fine-tune the file with the same Input"));
  adaptNewSites_ = new QCheckBox(tr("adapt to sites the training folds lack"), this);
  adaptNewSites_->setToolTip(tr("evaluate, per-site input: a test site without training scans (every site, leaving sites out) gets "
                                "statistics of its own from its test scans (at least %1; their connectivity, never their labels) "
                                "instead of the pooled ones — what adapting a model to a new site does (Runs › Adapt to Site…)")
                                 .arg(SiteStandardizer::kMinScans));
  adaptScans_ = new QSpinBox(this);
  adaptScans_->setRange(0, 100000);
  adaptScans_->setSpecialValueText(tr("all of its test scans"));
  adaptScans_->setSuffix(tr(" scans"));
  adaptScans_->setToolTip(
      tr("With adaptation: each new site's statistics from only this many of its test scans (a seeded choice; all "
         "are still scored), to see how many scans a new site must bring (evaluate --adapt-scans)"));
  adaptShare_ = new QSpinBox(this);
  adaptShare_->setRange(-1, 100);
  adaptShare_->setValue(-1);
  adaptShare_->setSpecialValueText(tr("as the site comes"));
  adaptShare_->setSuffix(tr("% positive"));
  adaptShare_->setToolTip(
      tr("With adaptation: each new site's batch with this share of the positive class (100: patients only; every scan "
         "of the class that runs out first), to see how a batch's mix moves the site's scores (evaluate --adapt-share)"));
  adaptLabelled_ = new QCheckBox(tr("weight the batch by its labels"), this);
  adaptLabelled_->setToolTip(
      tr("With adaptation: the batch's labels weight its statistics to the training folds' class mix, as "
         "Adapt to Site… with Diagnoses known does (evaluate --adapt-labelled)"));
  ensemble_ = new QSpinBox(this);
  ensemble_->setRange(0, 32);
  ensemble_->setSpecialValueText(tr("from the configuration (5)"));
  ensemble_->setToolTip(
      tr("train, evaluate: members per model; their calibrated probabilities are averaged (costs that many trainings). "
         "1: a single model on a 15% validation split, about 4x quicker, but those scans are never learned from"));
  ensembleFolds_ = new QCheckBox(tr("cross-fitted: each member validates on its own fold"), this);
  ensembleFolds_->setChecked(true);
  ensembleFolds_->setToolTip(
      tr("train, evaluate, with 2 or more members: the labelled scans are split into one stratified fold per member; "
         "member k selects its epoch and fits its calibration on fold k and learns from the rest, so the file learns "
         "from every label (--ensemble-validation folds, the default). Unchecked: all members share one 15% "
         "validation split that none learns from (--ensemble-validation shared)"));
  regularisation_ = new QLineEdit(this);
  regularisation_->setPlaceholderText(QStringLiteral("0.01"));
  regularisation_->setToolTip(
      tr("logreg, svm: the inverse regularisation strength C, or several separated by commas (0.001,0.01,0.1): "
         "each training part then chooses its own C by 5-fold cross-validation inside it, never looking at "
         "its test fold (--c)"));
  epochs_ = new QSpinBox(this);
  epochs_->setRange(0, 10000);
  epochs_->setSpecialValueText(tr("from the configuration"));
  epochs_->setToolTip(tr("Override the configuration's epochs (meta-train: meta-epochs)"));
  firstOrder_ = new QCheckBox(tr("first-order MAML"), this);
  firstOrder_->setToolTip(tr("meta-train: first-order approximation (default: second order, as the paper)"));
  folds_ = new QSpinBox(this);
  folds_->setRange(0, 50);
  folds_->setSpecialValueText(tr("the corpus's split"));
  folds_->setToolTip(tr("evaluate: stratified k-fold cross-validation (0 = the corpus's own split)"));
  corpusAtlasesLabel_ = new QLabel(this);
  corpusAtlasesLabel_->setToolTip(
      tr("The corpus's parcellations. BrainGFM pre-trains on every atlas of a corpus at once, each graph with its "
         "own atlas token; on several atlases, train and evaluate make one model per atlas and average their "
         "calibrated probabilities, or one model over every atlas (Atlases combined)"));
  crossAtlasViews_ = new QCheckBox(tr("cross-atlas views: one brain in two atlases as the contrastive pair"), this);
  crossAtlasViews_->setToolTip(
      tr("pretrain (BrainGFM), or evaluate pre-training in each fold, on a corpus of several atlases: GCL's positive "
         "pair is one acquisition seen through two parcellations, so the encoder embeds a brain alike whatever atlas "
         "reads it (--cross-atlas-views)"));
  atlasFusion_ = new QComboBox(this);
  atlasFusion_->addItem(tr("one model per atlas, probabilities averaged"), QStringLiteral("probability"));
  atlasFusion_->addItem(tr("one model over every atlas (representations combined)"), QStringLiteral("embedding"));
  atlasFusion_->setToolTip(
      tr("train and evaluate a graph model on a corpus of several atlases: one model per atlas, trained apart, whose calibrated "
         "probabilities are averaged; or one model in which a network per atlas reads that atlas's graph of the scan and one head "
         "over all their representations is trained with one loss (--atlas-fusion embedding)"));
  leaveSiteOut_ = new QCheckBox(tr("leave one site out per fold"), this);
  leaveSiteOut_->setToolTip(
      tr("evaluate: each acquisition site is the test fold once, the model trained on the other sites "
         "(--leave-site-out): how it fares on a site it has never seen"));
  labels_ = new QLineEdit(this);
  labels_->setPlaceholderText(QStringLiteral("100"));
  labels_->setToolTip(
      tr("evaluate: the share of each fold's training labels the model learns from, in percent; several separated "
         "by commas (100, 10, 1) evaluate each in turn, as in the BrainGFM paper's figure 2 (--regimes). The rest "
         "of the training scans stay unlabelled; zero-shot (0%) needs a meta-learned model (braingraph-cli evaluate --meta)"));
  device_ = new QComboBox(this);
  device_->setToolTip(tr("Compute device (auto: CUDA when present, else CPU)"));
  threads_ = new QSpinBox(this);
  threads_->setRange(0, 256);
  threads_->setSpecialValueText(tr("all cores"));
  threads_->setToolTip(tr("CPU threads"));
  setDevices(0, QThread::idealThreadCount());
  auto* engine = new EngineInfo(this);  // which CUDA devices LibTorch sees, asked of the CLI
  connect(engine, &EngineInfo::finished, this, [this, engine] { setDevices(engine->cudaDevices(), QThread::idealThreadCount()); });
  engine->query();

  name_ = new QLineEdit(this);
  name_->setPlaceholderText(tr("the method"));
  name_->setToolTip(tr("evaluate: the model's name in comparisons (Run › Compare Models…), to keep configurations of one method apart"));
  output_ = new QLineEdit(this);
  output_->setToolTip(tr("Model file to write (pretrain, train) or the prefix of result tables (evaluate, optional)"));
  estimateLabel_ = new QLabel(tr("Estimate: not measured yet."), this);
  estimateLabel_->setWordWrap(true);
  estimateLabel_->setToolTip(tr("Time and peak memory, extrapolated from running the first seconds of this run"));
  problems_ = new QLabel(this);
  problems_->setStyleSheet(QStringLiteral("color: #cf222e"));
  problems_->setWordWrap(true);
  // A line edit with a Browse button beside it (open: an existing file; else a file to write).
  auto withBrowse = [this](QLineEdit* edit, bool open, const QString& filter) {
    auto* box = new QWidget(this);
    auto* row = new QHBoxLayout(box);
    row->setContentsMargins(0, 0, 0, 0);
    auto* browse = new QPushButton(tr("Browse…"), box);
    browse->setToolTip(open ? tr("Choose the file") : tr("Choose where to write"));
    connect(browse, &QPushButton::clicked, this, [this, edit, open, filter] {
      const QString start = edit->text().isEmpty() ? workspace_ + QStringLiteral("/models") : edit->text();
      const QString f = open ? QFileDialog::getOpenFileName(this, tr("Choose a file"), start, filter)
                             : QFileDialog::getSaveFileName(this, tr("Choose where to write"), start, filter);
      if (!f.isEmpty()) edit->setText(f);
    });
    row->addWidget(edit, 1);
    row->addWidget(browse);
    rowOf_[edit] = box;
    return box;
  };
  advanced_ = new QCheckBox(tr("Show advanced options"), this);
  advanced_->setToolTip(
      tr("Calibration, ensembles, site adaptation, other configurations to try, device and threads: most runs keep "
         "their defaults"));
  auto* form = new QFormLayout;
  form_ = form;
  form->addRow(tr("Run:"), kind_);
  form->addRow(tr("Corpus:"), corpus_);
  form->addRow(tr("Atlases:"), corpusAtlasesLabel_);
  form->addRow(QString(), crossAtlasViews_);
  form->addRow(tr("Atlases combined:"), atlasFusion_);
  form->addRow(tr("Tasks:"), tasks_);
  form->addRow(tr("Method:"), method_);
  form->addRow(tr("Model:"), foundationModel_);
  form->addRow(tr("Pre-trained:"), withBrowse(pretrained_, true, tr("Model files (*.pt *.json);;All files (*)")));
  form->addRow(tr("Pre-training:"), pretrainInFolds_);
  form->addRow(tr("Configuration:"), config_);
  form->addRow(tr("Also try:"), alsoConfigs_);
  form->addRow(tr("Calibration:"), calibration_);
  form->addRow(tr("Input:"), input_);
  form->addRow(QString(), adaptNewSites_);
  form->addRow(tr("Adapt from:"), adaptScans_);
  form->addRow(tr("Batch mix:"), adaptShare_);
  form->addRow(QString(), adaptLabelled_);
  form->addRow(tr("Ensemble:"), ensemble_);
  form->addRow(QString(), ensembleFolds_);
  form->addRow(tr("C:"), regularisation_);
  form->addRow(tr("Epochs:"), epochs_);
  form->addRow(QString(), firstOrder_);
  form->addRow(tr("Folds:"), folds_);
  form->addRow(QString(), leaveSiteOut_);
  form->addRow(tr("Labels (%):"), labels_);
  form->addRow(tr("Name:"), name_);
  form->addRow(tr("Device:"), device_);
  form->addRow(tr("Threads:"), threads_);
  form->addRow(tr("Output:"), withBrowse(output_, false, tr("Model files (*.pt *.json);;All files (*)")));
  form->addRow(QString(), advanced_);
  auto* save = new QPushButton(tr("Save Preset…"), this);
  save->setToolTip(tr("Save this form as a JSON preset"));
  auto* load = new QPushButton(tr("Load Preset…"), this);
  load->setToolTip(tr("Fill the form from a JSON preset"));
  estimate_ = new QPushButton(tr("Estimate"), this);
  estimate_->setToolTip(tr("Run the first seconds of this run to estimate its time and memory (nothing is written)"));
  connect(estimate_, &QPushButton::clicked, this, &LaunchRunDialog::estimate);
  launch_ = new QPushButton(tr("Launch"), this);
  launch_->setToolTip(tr("Start the run in its own process; follow it in the Runs dock"));
  launch_->setDefault(true);
  auto* cancel = new QPushButton(tr("Close"), this);
  cancel->setToolTip(tr("Close without launching"));
  connect(save, &QPushButton::clicked, this, [this] {
    const auto f = QFileDialog::getSaveFileName(this, tr("Save preset"), QString(), tr("Presets (*.json)"));
    if (!f.isEmpty()) savePreset(f);
  });
  connect(load, &QPushButton::clicked, this, [this] {
    const auto f = QFileDialog::getOpenFileName(this, tr("Load preset"), QString(), tr("Presets (*.json)"));
    if (!f.isEmpty()) loadPreset(f);
  });
  connect(launch_, &QPushButton::clicked, this, [this] {
    if (!problems().isEmpty()) return;
    savePreset(workspace_ + QStringLiteral("/launch-last.json"));  // the next form starts from these values
    Q_EMIT launchRequested(arguments());
    accept();
  });
  connect(cancel, &QPushButton::clicked, this, &QDialog::reject);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(save);
  buttons->addWidget(load);
  buttons->addWidget(estimate_);
  buttons->addStretch(1);
  buttons->addWidget(cancel);
  buttons->addWidget(launch_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(estimateLabel_);
  layout->addWidget(problems_);
  layout->addLayout(buttons);
  for (auto* c : {kind_, corpus_, method_, foundationModel_, config_, calibration_, input_, device_, pretrainInFolds_, atlasFusion_})
    connect(c, &QComboBox::currentIndexChanged, this, &LaunchRunDialog::revalidate);
  for (auto* e : {pretrained_, output_, regularisation_, labels_}) connect(e, &QLineEdit::textChanged, this, &LaunchRunDialog::revalidate);
  for (auto* s : {epochs_, folds_, threads_, adaptScans_, adaptShare_, ensemble_}) connect(s, &QSpinBox::valueChanged, this, &LaunchRunDialog::revalidate);
  connect(adaptNewSites_, &QCheckBox::toggled, this, &LaunchRunDialog::revalidate);
  connect(adaptLabelled_, &QCheckBox::toggled, this, &LaunchRunDialog::revalidate);
  connect(leaveSiteOut_, &QCheckBox::toggled, this, &LaunchRunDialog::revalidate);
  connect(tasks_, &QListWidget::itemChanged, this, &LaunchRunDialog::revalidate);
  connect(alsoConfigs_, &QListWidget::itemChanged, this, &LaunchRunDialog::revalidate);
  connect(advanced_, &QCheckBox::toggled, this, &LaunchRunDialog::revalidate);
  revalidate();
}

void LaunchRunDialog::restoreLastLaunch() {
  if (const QString last = workspace_ + QStringLiteral("/launch-last.json"); QFileInfo::exists(last)) loadPreset(last);
}

bool LaunchRunDialog::showsRow(QWidget* field) const {
  const auto it = rowOf_.find(field);
  QWidget* row = it == rowOf_.end() ? field : it->second;
  // QFormLayout::isRowVisible arrived in Qt 6.6: the row's widget is hidden with it.
  return !row->isHidden();
}

LaunchRequest LaunchRunDialog::request() const {
  LaunchRequest r;
  r.workspace = workspace_.toStdString();
  r.kind = kind_->currentText().toStdString();
  r.corpus = corpus_->currentText().toStdString();
  if (const auto a = atlasesOfCorpus_.find(corpus_->currentText()); a != atlasesOfCorpus_.end())
    for (const auto& atlas : a->second) r.corpusAtlases.push_back(atlas.toStdString());
  for (const auto& t : tasks()) r.tasks.push_back(t.toStdString());
  r.method = method_->currentText().toStdString();
  r.foundationModel = foundationModel_->currentText().toStdString();
  r.pretrained = pretrained_->text().trimmed().toStdString();
  r.config = config_->currentData().toString().toStdString();
  for (int i = 0; i < alsoConfigs_->count(); ++i)
    if (alsoConfigs_->item(i)->checkState() == Qt::Checked) r.alsoConfigs.push_back(alsoConfigs_->item(i)->data(Qt::UserRole).toString().toStdString());
  r.calibration = calibration_->currentData().toString().toStdString();
  r.input = input_->currentData().toString().toStdString();
  r.pretrainInFolds = pretrainInFolds_->currentData().toString().toStdString();
  r.regularisation = regularisation_->text().trimmed().toStdString();
  r.labels = labels_->text().toStdString();
  r.device = device_->currentData().toString().toStdString();
  r.output = output_->text().trimmed().toStdString();
  r.name = name_->text().trimmed().toStdString();
  r.atlasFusion = atlasFusion_->currentData().toString().toStdString();
  r.epochs = epochs_->value();
  r.ensemble = ensemble_->value();
  r.folds = folds_->value();
  r.threads = threads_->value();
  r.adaptScans = adaptScans_->value();
  r.adaptSharePercent = adaptShare_->value();
  r.ensembleFolds = ensembleFolds_->isChecked();
  r.crossAtlasViews = crossAtlasViews_->isChecked();
  r.leaveSiteOut = leaveSiteOut_->isChecked();
  r.firstOrder = firstOrder_->isChecked();
  r.adaptNewSites = adaptNewSites_->isChecked();
  r.adaptLabelled = adaptLabelled_->isChecked();
  return r;
}

QStringList LaunchRunDialog::problems() const {
  QStringList p;
  for (const auto& problem : launchProblems(request())) p << QString::fromStdString(problem);
  return p;
}

QStringList LaunchRunDialog::arguments() const {
  QStringList a;
  for (const auto& part : launchArguments(request())) a << QString::fromStdString(part);
  return a;
}

json LaunchRunDialog::preset() const {
  return {{"kind", kind_->currentText().toStdString()},
          {"corpus", corpus_->currentText().toStdString()},
          {"method", method_->currentText().toStdString()},
          {"model", foundationModel_->currentText().toStdString()},
          {"pretrained", pretrained_->text().toStdString()},
          {"config", config_->currentText().toStdString()},
          {"epochs", epochs_->value()},
          {"calibration", calibration_->currentData().toString().toStdString()},
          {"input", input_->currentData().toString().toStdString()},
          {"adapt_new_sites", adaptNewSites_->isChecked()},
          {"adapt_scans", adaptScans_->value()},
          {"adapt_share_percent", adaptShare_->value()},
          {"adapt_labelled", adaptLabelled_->isChecked()},
          {"pretrain_in_folds", pretrainInFolds_->currentData().toString().toStdString()},
          {"ensemble", ensemble_->value()},
          {"ensemble_folds", ensembleFolds_->isChecked()},
          {"cross_atlas_views", crossAtlasViews_->isChecked()},
          {"atlas_fusion", atlasFusion_->currentData().toString().toStdString()},
          {"folds", folds_->value()},
          {"leave_site_out", leaveSiteOut_->isChecked()},
          {"labels", labels_->text().toStdString()},
          {"device", device_->currentData().toString().toStdString()},
          {"threads", threads_->value()},
          {"output", output_->text().toStdString()},
          {"name", name_->text().toStdString()},
          {"c", regularisation_->text().toStdString()},
          {"also_configs",
           [this] {
             std::vector<std::string> names;
             for (int i = 0; i < alsoConfigs_->count(); ++i)
               if (alsoConfigs_->item(i)->checkState() == Qt::Checked) names.push_back(alsoConfigs_->item(i)->text().toStdString());
             return names;
           }()},
          {"tasks",
           [this] {
             std::vector<std::string> t;
             for (const auto& c : tasks()) t.push_back(c.toStdString());
             return t;
           }()},
          {"first_order", firstOrder_->isChecked()}};
}

void LaunchRunDialog::applyPreset(const json& p) {
  auto select = [](QComboBox* box, const json& j, const char* key) {
    if (!j.contains(key)) return;
    const int i = box->findText(QString::fromStdString(j[key].get<std::string>()));
    if (i >= 0) box->setCurrentIndex(i);
  };
  select(kind_, p, "kind");
  select(corpus_, p, "corpus");
  select(method_, p, "method");
  select(foundationModel_, p, "model");
  select(config_, p, "config");
  if (p.contains("calibration")) {
    const int i = calibration_->findData(QString::fromStdString(p["calibration"].get<std::string>()));
    if (i >= 0) calibration_->setCurrentIndex(i);
  }
  if (p.contains("input")) {
    const int i = input_->findData(QString::fromStdString(p["input"].get<std::string>()));
    if (i >= 0) input_->setCurrentIndex(i);
  }
  if (p.contains("pretrain_in_folds")) {
    const int i = pretrainInFolds_->findData(QString::fromStdString(p["pretrain_in_folds"].get<std::string>()));
    if (i >= 0) pretrainInFolds_->setCurrentIndex(i);
  }
  if (p.contains("device")) {
    const int i = device_->findData(QString::fromStdString(p["device"].get<std::string>()));
    if (i >= 0) device_->setCurrentIndex(i);
  }
  pretrained_->setText(QString::fromStdString(p.value("pretrained", std::string())));
  output_->setText(QString::fromStdString(p.value("output", std::string())));
  name_->setText(QString::fromStdString(p.value("name", std::string())));
  regularisation_->setText(QString::fromStdString(p.value("c", std::string())));
  epochs_->setValue(p.value("epochs", 0));
  folds_->setValue(p.value("folds", 0));
  leaveSiteOut_->setChecked(p.value("leave_site_out", false));
  labels_->setText(QString::fromStdString(p.value("labels", std::string())));
  ensemble_->setValue(p.value("ensemble", 0));
  threads_->setValue(p.value("threads", 0));
  QStringList t;
  for (const auto& c : p.value("tasks", std::vector<std::string>())) t << QString::fromStdString(c);
  setTasks(t);
  firstOrder_->setChecked(p.value("first_order", false));
  adaptNewSites_->setChecked(p.value("adapt_new_sites", false));
  adaptScans_->setValue(p.value("adapt_scans", 0));
  adaptShare_->setValue(p.value("adapt_share_percent", -1));
  adaptLabelled_->setChecked(p.value("adapt_labelled", false));
  ensembleFolds_->setChecked(p.value("ensemble_folds", true));
  crossAtlasViews_->setChecked(p.value("cross_atlas_views", false));
  if (const int i = atlasFusion_->findData(QString::fromStdString(p.value("atlas_fusion", std::string("probability")))); i >= 0)
    atlasFusion_->setCurrentIndex(i);
  const auto also = p.value("also_configs", std::vector<std::string>());
  for (int i = 0; i < alsoConfigs_->count(); ++i)
    alsoConfigs_->item(i)->setCheckState(std::find(also.begin(), also.end(), alsoConfigs_->item(i)->text().toStdString()) != also.end() ? Qt::Checked
                                                                                                                                        : Qt::Unchecked);
}

bool LaunchRunDialog::savePreset(const QString& file) const {
  try {
    writeTextAtomically(file.toStdString(), preset().dump(2) + "\n");  // an old preset stays whole if this fails
    return true;
  } catch (const std::exception& e) {
    problems_->setText(tr("Cannot save the preset: %1").arg(QString::fromStdString(e.what())));
    return false;
  }
}

bool LaunchRunDialog::loadPreset(const QString& file) {
  std::ifstream in(file.toStdString());
  try {
    applyPreset(json::parse(in));
    return true;
  } catch (const std::exception& e) {
    problems_->setText(tr("%1 is not a preset: %2").arg(file, QString::fromStdString(e.what())));
    return false;
  }
}

void LaunchRunDialog::revalidate() {
  const auto r = request();
  const auto f = launchFields(r);
  const std::pair<QWidget*, bool> used[] = {
      {method_, f.method},
      {foundationModel_, f.foundationModel},
      {corpus_, f.corpus},
      {tasks_, f.tasks},
      {firstOrder_, f.firstOrder},
      {pretrained_, f.pretrained},
      {leaveSiteOut_, f.leaveSiteOut},
      {folds_, f.folds},
      {labels_, f.labels},
      {name_, f.name},
      {pretrainInFolds_, f.pretrainInFolds},
      {calibration_, f.calibration},
      {input_, f.input},
      {ensemble_, f.ensemble},
      {ensembleFolds_, f.ensembleFolds},
      {crossAtlasViews_, f.crossAtlasViews},
      {atlasFusion_, f.atlasFusion},
      {regularisation_, f.regularisation},
      {alsoConfigs_, f.alsoConfigs},
      {adaptNewSites_, f.adaptNewSites},
      {adaptScans_, f.adaptScans},
      {adaptShare_, f.adaptShare},
      {adaptLabelled_, f.adaptLabelled},
  };
  for (const auto& [field, on] : used) field->setEnabled(on);
  corpusAtlasesLabel_->setText(r.corpusAtlases.empty() ? tr("unknown") : QString::fromStdString(fmt::format("{}", fmt::join(r.corpusAtlases, ", "))));
  // Only the rows this run and method use; the advanced ones folded unless asked for.
  const bool advanced = advanced_ && advanced_->isChecked();
  auto show = [&](QWidget* field, bool isAdvanced) {
    if (!form_) return;  // still being built
    const auto it = rowOf_.find(field);
    form_->setRowVisible(it == rowOf_.end() ? field : it->second, field->isEnabled() && (advanced || !isAdvanced));
  };
  for (QWidget* basic : std::initializer_list<QWidget*>{corpus_, tasks_, method_, foundationModel_, pretrained_, pretrainInFolds_, input_, regularisation_,
                                                        atlasFusion_, adaptNewSites_, firstOrder_, folds_, leaveSiteOut_, labels_})
    show(basic, false);
  for (QWidget* folded : std::initializer_list<QWidget*>{crossAtlasViews_, alsoConfigs_, calibration_, adaptScans_, adaptShare_, adaptLabelled_, ensemble_,
                                                         ensembleFolds_, name_, device_, threads_})
    show(folded, true);
  estimateLabel_->setText(tr("Estimate: not measured yet."));
  const auto p = problems();
  problems_->setText(p.join(QStringLiteral("\n")));
  launch_->setEnabled(p.isEmpty());
}

}  // namespace bg::ui

namespace bg::ui {

void LaunchRunDialog::setDevices(int cudaDevices, int cpuCores) {
  const QString current = device_->currentData().toString();
  const QSignalBlocker block(device_);
  device_->clear();
  device_->addItem(tr("auto"), QStringLiteral("auto"));
  device_->addItem(tr("cpu (%1 cores)").arg(cpuCores), QStringLiteral("cpu"));
  for (int i = 0; i < cudaDevices; ++i) device_->addItem(tr("cuda:%1").arg(i), QStringLiteral("cuda:%1").arg(i));
  if (cudaDevices == 0) {
    device_->addItem(tr("cuda (none available)"), QStringLiteral("unavailable"));
    // Not selectable: this LibTorch build or machine has no CUDA.
    if (auto* model = qobject_cast<QStandardItemModel*>(device_->model())) model->item(device_->count() - 1)->setEnabled(false);
  }
  const int keep = device_->findData(current);
  device_->setCurrentIndex(keep >= 0 ? keep : 0);
  threads_->setMaximum(std::max(1, cpuCores));
  threads_->setSuffix(tr(" of %1").arg(cpuCores));
}

QStringList LaunchRunDialog::tasks() const {
  QStringList t;
  for (int i = 0; i < tasks_->count(); ++i)
    if (tasks_->item(i)->checkState() == Qt::Checked) t << tasks_->item(i)->text();
  return t;
}

void LaunchRunDialog::setTasks(const QStringList& corpora) {
  for (int i = 0; i < tasks_->count(); ++i) tasks_->item(i)->setCheckState(corpora.contains(tasks_->item(i)->text()) ? Qt::Checked : Qt::Unchecked);
}

QString LaunchRunDialog::estimateText() const { return estimateLabel_->text(); }

void LaunchRunDialog::estimate() {
  if (estimator_ || !problems().isEmpty()) return;
  estimator_ = new QProcess(this);
  estimator_->setProgram(EngineInfo::cliPath());
  estimator_->setArguments(QStringList{QStringLiteral("--quiet"), QStringLiteral("--no-progress"), QStringLiteral("--estimate")} + arguments());
  connect(estimator_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
    const QByteArray out = estimator_->readAllStandardOutput();
    const QString err = QString::fromUtf8(estimator_->readAllStandardError()).trimmed();
    estimator_->deleteLater();
    estimator_ = nullptr;
    estimate_->setEnabled(true);
    QString text;
    const QJsonObject j = QJsonDocument::fromJson(out.trimmed().split('\n').last()).object();
    if (status != QProcess::NormalExit || code != 0 || j.isEmpty()) {
      text = tr("Estimate failed: %1").arg(err.isEmpty() ? tr("exit %1").arg(code) : err);
    } else {
      const double secs = j.value(QStringLiteral("estimated_seconds")).toDouble();
      const double mib = j.value(QStringLiteral("peak_memory_mib")).toDouble();
      const QString time = secs < 120    ? tr("%1 s").arg(secs, 0, 'f', 0)
                           : secs < 7200 ? tr("%1 min").arg(secs / 60.0, 0, 'f', 1)
                                         : tr("%1 h").arg(secs / 3600.0, 0, 'f', 1);
      text = tr("Estimate: about %1 in all, peak memory %2 GiB (measured over the first %3 s, %4 % of the run).")
                 .arg(time)
                 .arg(mib / 1024.0, 0, 'f', 2)
                 .arg(j.value(QStringLiteral("measured_seconds")).toDouble(), 0, 'f', 0)
                 .arg(100.0 * j.value(QStringLiteral("measured_fraction")).toDouble(), 0, 'f', 1);
      if (j.value(QStringLiteral("completed")).toBool())
        text = tr("Estimate: the whole run took %1 s, peak memory %2 GiB.").arg(secs, 0, 'f', 1).arg(mib / 1024.0, 0, 'f', 2);
    }
    estimateLabel_->setText(text);
    Q_EMIT estimated(text);
  });
  estimate_->setEnabled(false);
  estimateLabel_->setText(tr("Estimating: running the first seconds…"));
  estimator_->start();
}

}  // namespace bg::ui
