#include "eval/DiagnosisChecks.h"
#include "DiagnosisWizard.h"

#include <cmath>
#include <functional>
#include <limits>

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPixmap>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QTextBrowser>
#include <QTextEdit>
#include <QVBoxLayout>
#include <QWizardPage>
#include <spdlog/spdlog.h>

#include "CliRunner.h"
#include "JobBridge.h"
#include "errors/Error.h"
#include "io/NiftiImage.h"
#include "io/TimeSeriesFile.h"
#include "jobs/JobRunner.h"
#include "report/Diagnosis.h"
#include "pdf/ReportFigures.h"
#include "pdf/ReportPdf.h"
#include "workspace/ReportStore.h"
#include "workspace/Workspace.h"
#include "workspace/WorkspaceQueries.h"

namespace bg::ui {
using nlohmann::json;

namespace {

// A page whose completeness and entry action are given as functions (QWizardPage needs a subclass).
// `blocker` says why Next is disabled (empty: the page is complete); the page shows that reason, so a
// disabled Next always explains itself.
class ConditionPage : public QWizardPage {
 public:
  std::function<QString()> blocker;
  std::function<void()> enter;
  QLabel* reason = nullptr;
  bool isComplete() const override { return !blocker || blocker().isEmpty(); }
  void initializePage() override {
    if (enter) enter();
    refresh();
  }
  void refresh() {
    if (reason) {
      const QString why = blocker ? blocker() : QString();
      reason->setText(why.isEmpty() ? QString() : QStringLiteral("<span style='color:#9a6700'>&#9888; %1</span>").arg(why.toHtmlEscaped()));
      reason->setVisible(!why.isEmpty());
    }
    Q_EMIT completeChanged();
  }
  // Adds the reason line at the foot of the page's layout.
  void addReasonLine() {
    reason = new QLabel(this);
    reason->setObjectName(QStringLiteral("blockerReason"));
    reason->setWordWrap(true);
    reason->setVisible(false);
    if (auto* form = qobject_cast<QFormLayout*>(layout()))
      form->addRow(reason);
    else if (auto* box = qobject_cast<QBoxLayout*>(layout()))
      box->addWidget(reason);
  }
};

ConditionPage* conditionPage(const QWizard* w, int id) { return static_cast<ConditionPage*>(w->page(id)); }

QString describeCard(const ModelCard& card, const QString& file) {
  const auto q = [](const std::string& v) { return v.empty() ? QString("—") : QString::fromStdString(v).toHtmlEscaped(); };
  QString h = "<b>" + QFileInfo(file).fileName().toHtmlEscaped() + "</b><br>";
  h += "Kind: " + q(card.kindName) + "<br>";
  QStringList classes;
  for (const auto& c : card.classes) classes << QString::fromStdString(c).toHtmlEscaped();
  h += "Task: " + q(card.labelField) + " — classes " + (classes.isEmpty() ? QString("—") : classes.join(", ")) + " (positive: " + q(card.positiveClass) +
       ")<br>";
  QStringList rois;
  for (const auto& in : card.inputs) rois << (in.nodes > 0 ? QString::number(in.nodes) : QString("?"));
  h += card.readsSeveralAtlases()
           ? "Atlases: " + q(card.atlasLabel()) + " (" + rois.join(" + ") + " ROIs) — " +
                 (card.combination == AtlasCombination::Fused ? "one model reads the scan through each; " : "one model per atlas, averaged; ") +
                 "a BOLD volume is parcellated with each in one pass<br>"
           : "Atlas: " + q(card.atlas()) + " (" + (rois.isEmpty() ? QString("—") : rois.front()) + " ROIs) — follows from the model<br>";
  h += "Training data: corpus " + q(card.corpusName) + ", " + QString::number(card.corpusItems) + " scans<br>";
  const auto number = [](const std::optional<double>& v) { return v ? QString::number(*v, 'f', 3) : QString("—"); };
  if (card.validation)
    h += QString(card.validation->outOfFold ? "Validation: AUC %1, accuracy %2, out of fold on its %3 training scans<br>"
                                            : "Validation: AUC %1, accuracy %2 on %3 held-out scans<br>")
             .arg(number(card.validation->auc), number(card.validation->accuracy))
             .arg(card.validation->scans);
  else
    h += "Validation: not recorded in this file<br>";
  if (const auto& e = card.stored.value("evaluation", json()); e.is_object()) {  // the evaluation record as release stored it
    const auto ci = e.value("metrics", json::object()).value("auc", json::object()).value("ci95", json::array());
    h += QString("Cross-validated: AUC %1%2 over %3 folds (%4) of %5<br>")
             .arg(number(card.crossValidatedAuc))
             .arg(ci.size() == 2 ? QString(" (95% CI %1–%2)").arg(ci[0].get<double>(), 0, 'f', 3).arg(ci[1].get<double>(), 0, 'f', 3) : QString())
             .arg(e.value("folds", 0))
             .arg(q(e.value("split", std::string())), q(e.value("corpus", std::string())));
  }
  if (card.release)
    h += "Release: <b>" + q(card.release->name) + "</b>, by " + q(card.release->releasedBy) + " on " + q(card.release->releasedAt) + "<br>";
  else
    h += "Release: <b>not released</b> — a trained model whose figures are not a cross-validated evaluation<br>";
  h += "Uncertainty: " +
       QString(card.hasFoldModels                 ? "fold-model range"
               : card.kind == ModelKind::Baseline ? "none (older file)"
                                                  : "Monte Carlo dropout") +
       "<br>";
  h += "Out-of-distribution reference: " + QString(card.hasOodReference ? "yes" : "no") + "<br>";
  h += "Software: " + q(card.codeVersion);
  return h;
}

QString taskOf(const ModelCard& card) {
  QString t = QString::fromStdString(card.labelField.empty() ? std::string("task") : card.labelField);
  if (card.classes.size() == 2) t += QString(": %1 vs %2").arg(QString::fromStdString(card.classes[1]), QString::fromStdString(card.classes[0]));
  return t;
}

}  // namespace

DiagnosisWizard::DiagnosisWizard(JobRunner& jobs, const QString& workspaceDir, std::optional<std::filesystem::path> brainMask, QWidget* parent)
    : QWizard(parent), jobs_(jobs), workspaceDir_(workspaceDir), brainMask_(std::move(brainMask)) {
  setWindowTitle(tr("Diagnosis Wizard"));
  setWizardStyle(QWizard::ClassicStyle);
  setOption(QWizard::NoBackButtonOnLastPage, false);  // the sign-off page can go back to the result
  setOption(QWizard::HaveHelpButton, false);
  for (int id = ScanPage; id <= SignOffPage; ++id) setPage(id, new ConditionPage);
  bridge_ = new JobBridge(jobs, this);
  connect(bridge_, &JobBridge::jobChanged, this, [this](const JobSnapshot& s) {
    if (!job_ || s.id != job_->id()) return;
    auto* bar = currentId() == QcPage ? qcProgress_ : runProgress_;
    bar->setValue(static_cast<int>(100 * s.fraction));
    if (currentId() == RunPage) runStage_->setText(QString::fromStdString(s.stage));
  });
  buildScanPage();
  buildModelPage();
  buildQcPage();
  buildRunPage();
  buildResultPage();
  buildSignOffPage();
  setButtonText(QWizard::FinishButton, tr("Sign and Export PDF"));
  button(QWizard::FinishButton)->setToolTip(tr("Sign the report, store it in the workspace and write the PDF"));
  button(QWizard::NextButton)->setToolTip(tr("Go to the next step"));
  button(QWizard::BackButton)->setToolTip(tr("Go back one step"));
  button(QWizard::CancelButton)->setToolTip(tr("Close the wizard (a running job is cancelled)"));
  resize(860, 780);
  connect(this, &QWizard::rejected, this, &DiagnosisWizard::cancelRunning);
}

void DiagnosisWizard::buildScanPage() {
  auto* p = conditionPage(this, ScanPage);
  p->setTitle(tr("1. Patient scan"));
  p->setSubTitle(tr("Choose the scan (BOLD NIfTI or ROI time series) and confirm how the patient is identified in the report."));
  scanEdit_ = new QLineEdit;
  scanEdit_->setToolTip(tr("The patient's BOLD .nii/.nii.gz, or ROI time series (.1D, .csv, .tsv, .npy) in the model's atlas"));
  auto* browse = new QPushButton(tr("Browse…"));
  browse->setToolTip(tr("Choose the scan file"));
  connect(browse, &QPushButton::clicked, this, [this] {
    const auto f = QFileDialog::getOpenFileName(this, tr("Patient scan"), QFileInfo(scanEdit_->text()).absolutePath(),
                                                tr("Scans (*.nii *.nii.gz *.1D *.1D.gz *.csv *.tsv *.npy);;All files (*)"));
    if (!f.isEmpty()) setScan(f);
  });
  auto* scanRow = new QHBoxLayout;
  scanRow->addWidget(scanEdit_);
  scanRow->addWidget(browse);
  patientEdit_ = new QLineEdit;
  patientEdit_->setToolTip(tr("The identifier printed on the report; taken from the file name (sub-XXX) — confirm or correct it"));
  pseudonymCheck_ = new QCheckBox(tr("Pseudonymise (print a salted pseudonym instead of the identifier)"));
  pseudonymCheck_->setToolTip(tr("The report then carries PSN-… instead of the identifier; the same identifier always gives the same pseudonym here"));
  pseudonymLabel_ = new QLabel;
  confoundsEdit_ = new QLineEdit;
  confoundsEdit_->setPlaceholderText(tr("fMRIPrep confounds TSV (optional; found beside a BOLD file automatically)"));
  confoundsEdit_->setToolTip(tr("Framewise displacement for the motion checks comes from this file"));
  trSpin_ = new QDoubleSpinBox;
  trSpin_->setRange(0, 10);
  trSpin_->setDecimals(3);
  trSpin_->setSuffix(tr(" s"));
  trSpin_->setSpecialValueText(tr("not given"));
  trSpin_->setToolTip(
      tr("Repetition time. A NIfTI file carries its own (shown here, read from its header); a time-series file does "
         "not: enter it when the model band-pass filters its input (its card says so)"));
  siteEdit_ = new QLineEdit;
  siteEdit_->setPlaceholderText(tr("acquisition site (optional)"));
  siteEdit_->setToolTip(
      tr("For a model that standardises its input per site: the site this scan was acquired at, named as in the "
         "model's training corpus. Other scans use the statistics pooled over the training sites."));
  auto* form = new QFormLayout(p);
  form->addRow(tr("Scan:"), scanRow);
  form->addRow(tr("Patient ID:"), patientEdit_);
  form->addRow(QString(), pseudonymCheck_);
  form->addRow(QString(), pseudonymLabel_);
  form->addRow(tr("Confounds:"), confoundsEdit_);
  form->addRow(tr("TR:"), trSpin_);
  form->addRow(tr("Site:"), siteEdit_);
  auto update = [this, p] {
    pseudonymLabel_->setText(pseudonymCheck_->isChecked() && !patientEdit_->text().isEmpty()
                                 ? tr("Printed as: %1").arg(QString::fromStdString(pseudonymFor(patientEdit_->text().toStdString())))
                                 : QString());
    p->refresh();
  };
  connect(scanEdit_, &QLineEdit::textChanged, this, [this, update](const QString& f) {
    patientEdit_->setText(QString::fromStdString(patientIdFromFileName(f.toStdString())));
    inspectScan(f);
    // A scan the workspace knows may carry its repetition time.
    if (!workspaceDir_.isEmpty()) {
      try {
        auto ws = Workspace::open(workspaceDir_.toStdString());
        if (const auto tr = scanRepetitionTime(*ws, f.toStdString())) trSpin_->setValue(*tr);
        if (const auto site = scanSite(*ws, f.toStdString())) siteEdit_->setText(QString::fromStdString(*site));
      } catch (const std::exception& e) {
        spdlog::debug("diagnosis wizard: no TR from the workspace: {}", e.what());
      }
    }
    update();
  });
  connect(patientEdit_, &QLineEdit::textChanged, this, update);
  connect(pseudonymCheck_, &QCheckBox::toggled, this, update);
  p->blocker = [this]() -> QString {
    const QString f = scanEdit_->text().trimmed();
    if (f.isEmpty()) return tr("Choose the patient's scan.");
    if (!QFileInfo(f).isFile()) return tr("%1 is not a file.").arg(f);
    if (!scanProblem_.isEmpty()) return scanProblem_;
    if (patientEdit_->text().trimmed().isEmpty()) return tr("Enter the patient identifier printed on the report.");
    return {};
  };
  p->addReasonLine();
}

bool DiagnosisWizard::scanIsNifti() const {
  const QString f = scanEdit_->text().trimmed().toLower();
  return f.endsWith(QStringLiteral(".nii")) || f.endsWith(QStringLiteral(".nii.gz"));
}

void DiagnosisWizard::inspectScan(const QString& file) {
  // What the model page must check against: a NIfTI file's TR, a time-series file's column count.
  scanColumns_ = 0;
  scanProblem_.clear();
  if (!QFileInfo(file).isFile()) return;
  try {
    if (scanIsNifti()) {
      const auto header = readNiftiHeader(file.toStdString());
      trSpin_->setValue(header.repetitionTime > 0 ? header.repetitionTime : 0.0);
      trSpin_->setEnabled(false);
    } else {
      trSpin_->setEnabled(true);
      trSpin_->setValue(0.0);  // a time-series file does not say; the workspace may (below)
      scanColumns_ = static_cast<int>(readRoiTimeSeries(file.toStdString()).series.cols());
    }
  } catch (const std::exception& e) {
    scanProblem_ = QString::fromStdString(e.what());
  }
}

void DiagnosisWizard::buildModelPage() {
  auto* p = conditionPage(this, ModelPage);
  p->setTitle(tr("2. Task and model"));
  p->setSubTitle(
      tr("Choose what to assess and the model that assesses it. Released models come first, best cross-validated AUC on top; "
         "the atlas follows from the model."));
  taskCombo_ = new QComboBox;
  taskCombo_->setToolTip(tr("The disorder (label) to assess"));
  modelCombo_ = new QComboBox;
  modelCombo_->setToolTip(
      tr("Models for this task recorded in the workspace: released ones (with a cross-validated evaluation) first, "
         "then trained but unreleased ones; or a file chosen with Browse"));
  auto* browse = new QPushButton(tr("Browse…"));
  browse->setToolTip(tr("Use a model file that is not in the workspace"));
  connect(browse, &QPushButton::clicked, this, [this] {
    const auto f = QFileDialog::getOpenFileName(this, tr("Model"), QString(), tr("Models (*.json *.pt);;All files (*)"));
    if (!f.isEmpty()) setModel(f);
  });
  cardView_ = new QTextBrowser;
  cardView_->setToolTip(tr("The model card: what it predicts, from what data, how well it validated"));
  auto* row = new QHBoxLayout;
  row->addWidget(modelCombo_, 1);
  row->addWidget(browse);
  auto* form = new QFormLayout(p);
  form->addRow(tr("Task:"), taskCombo_);
  form->addRow(tr("Model:"), row);
  form->addRow(tr("Model card:"), cardView_);
  connect(taskCombo_, &QComboBox::currentIndexChanged, this, [this] {
    // Only the models that answer the chosen task.
    const auto task = taskCombo_->currentText();
    modelCombo_->clear();
    for (const auto& m : models_)
      if (m.task == task) modelCombo_->addItem(m.label, m.path);
  });
  connect(modelCombo_, &QComboBox::currentIndexChanged, this, [this, p] {
    showCard(modelCombo_->currentData().toString());
    p->refresh();
  });
  p->blocker = [this]() -> QString {
    if (modelCombo_->currentData().toString().isEmpty())
      return tr("Choose a model: none is recorded for this task in the workspace (Browse… opens a model file).");
    if (busy()) return tr("Reading the model card…");
    if (!card_) return tr("The model card could not be read (see above): choose another model.");
    // An imported checkpoint (model import) has no task yet: its card is shown, but it cannot diagnose.
    if (card_->kind == ModelKind::PublicImport) return tr("This checkpoint is not adapted to a task yet.");
    return inputProblem();
  };
  p->addReasonLine();
  loadModels();
}

QString DiagnosisWizard::inputProblem() const {
  std::vector<std::string> registered;
  for (const auto& a : registeredAtlases_) registered.push_back(a.toStdString());
  if (!card_) return {};
  return QString::fromStdString(scanProblemForModel(*card_, {scanIsNifti(), scanColumns_, trSpin_->value()}, registered));
}

QString DiagnosisWizard::modelCardText() const { return cardView_->toPlainText(); }

void DiagnosisWizard::setRegisteredAtlases(const QStringList& ids) { registeredAtlases_ = ids; }

void DiagnosisWizard::loadModels() {
  if (workspaceDir_.isEmpty()) return;
  try {
    auto ws = Workspace::open(workspaceDir_.toStdString());
    QStringList tasks;
    for (const auto& stored : listModels(*ws)) {
      const QString path = QString::fromStdString(stored.path);
      if (!QFileInfo(path).isFile()) continue;
      if (!stored.card.contains("classes")) continue;
      ModelCard card;
      try {
        card = ModelCard::fromJson(stored.card, path.toStdString());
      } catch (const std::exception& e) {  // one unreadable record does not hide the others
        spdlog::warn("diagnosis wizard: {}", e.what());
        continue;
      }
      bool seen = false;
      for (const auto& m : models_) seen = seen || m.path == path;
      if (seen) continue;
      ModelChoice m;
      m.path = path;
      m.task = taskOf(card);
      m.released = card.release.has_value();
      const auto nan = std::numeric_limits<double>::quiet_NaN();
      m.cvAuc = card.crossValidatedAuc.value_or(nan);
      m.validationAuc = card.validation && card.validation->auc ? *card.validation->auc : nan;
      const QString name = m.released ? QString::fromStdString(card.release->name) : QFileInfo(path).fileName();
      m.label = m.released
                    ? tr("%1 — released, cross-validated AUC %2").arg(name, std::isnan(m.cvAuc) ? tr("n/a") : QString::number(m.cvAuc, 'f', 3))
                    : tr("%1 — not released, validation AUC %2").arg(name, std::isnan(m.validationAuc) ? tr("n/a") : QString::number(m.validationAuc, 'f', 3));
      models_.push_back(m);
      if (!tasks.contains(m.task)) tasks << m.task;
    }
    // Released first, best stored evaluation first; the combo's first entry is the default.
    const auto score = [](const ModelChoice& m) { return std::isnan(m.cvAuc) ? (std::isnan(m.validationAuc) ? -1.0 : m.validationAuc) : m.cvAuc; };
    std::stable_sort(models_.begin(), models_.end(), [&](const ModelChoice& a, const ModelChoice& b) {
      if (a.released != b.released) return a.released;
      return score(a) > score(b);
    });
    taskCombo_->addItems(tasks);
  } catch (const std::exception& e) {
    spdlog::warn("diagnosis wizard: cannot list the workspace's models: {}", e.what());
  }
}

void DiagnosisWizard::showCard(const QString& file) {
  card_.reset();
  cardView_->clear();
  if (file.isEmpty()) return;
  // Through the CLI for every kind: BrainGFM cards live in archives this process cannot open (no
  // LibTorch), and a baseline file is megabytes of weights the GUI thread should not parse.
  QPointer<DiagnosisWizard> self(this);
  // A newer choice supersedes a card still being read: its answer would describe the wrong model.
  if (job_) job_->requestCancel();
  const auto request = ++cardRequest_;
  job_ = jobs_.submit("read model card", [self, file, request](JobContext& job) {
    std::optional<ModelCard> card;
    QString error;
    try {
      card = ModelCard::fromJson(json::parse(runCli(job, {QStringLiteral("model"), file}).toStdString()), file.toStdString());
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    }
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, card, file, error, request] {
          if (!self || request != self->cardRequest_) return;
          self->job_.reset();
          self->card_ = card;
          const bool imported = card && card->kind == ModelKind::PublicImport;
          self->cardView_->setHtml(!error.isEmpty() ? "<span style='color:#cf222e'>" + error.toHtmlEscaped() + "</span>"
                                   : imported       ? "<span style='color:#cf222e'>" +
                                                    tr("%1 is a published checkpoint as imported, not yet adapted to a task: train it first "
                                                       "(Run › Launch…, method prompt, finetune, LoRA or linear, with this file as Pre-trained).")
                                                        .arg(QFileInfo(file).fileName())
                                                        .toHtmlEscaped() +
                                                    "</span>"
                                              : describeCard(*card, file));
          conditionPage(self.data(), ModelPage)->refresh();
        },
        Qt::QueuedConnection);
  });
  cardView_->setHtml(tr("Reading the model card…"));
}

void DiagnosisWizard::buildQcPage() {
  auto* p = conditionPage(this, QcPage);
  p->setTitle(tr("3. Quality control"));
  p->setSubTitle(
      tr("Checks the scan against the site's thresholds. A failed check blocks the run unless you override it with a reason, "
         "which is printed in the report."));
  qcProgress_ = new QProgressBar;
  qcProgress_->setToolTip(tr("Loading and parcellating the scan"));
  qcCancel_ = new QPushButton(tr("Cancel"));
  qcCancel_->setToolTip(tr("Stop the quality control run"));
  connect(qcCancel_, &QPushButton::clicked, this, &DiagnosisWizard::cancelRunning);
  qcTable_ = new QTableWidget(0, 5);
  qcTable_->setHorizontalHeaderLabels({tr("Check"), tr("Value"), tr("Status"), tr("Rule"), tr("Note")});
  qcTable_->horizontalHeader()->setStretchLastSection(true);
  qcTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  qcTable_->setToolTip(tr("Each check with its value, status and thresholds"));
  qcSummary_ = new QLabel;
  qcSummary_->setWordWrap(true);
  overrideCheck_ = new QCheckBox(tr("Override the failed checks"));
  overrideCheck_->setToolTip(tr("Run despite the failure; the reason and your name are recorded in the report"));
  overrideReason_ = new QLineEdit;
  overrideReason_->setPlaceholderText(tr("Reason for the override (required)"));
  overrideReason_->setToolTip(tr("Why this scan may be classified although it failed quality control"));
  auto* bar = new QHBoxLayout;
  bar->addWidget(qcProgress_, 1);
  bar->addWidget(qcCancel_);
  auto* v = new QVBoxLayout(p);
  v->addLayout(bar);
  v->addWidget(qcTable_, 1);
  v->addWidget(qcSummary_);
  v->addWidget(overrideCheck_);
  v->addWidget(overrideReason_);
  connect(overrideCheck_, &QCheckBox::toggled, p, &ConditionPage::refresh);
  connect(overrideReason_, &QLineEdit::textChanged, p, &ConditionPage::refresh);
  p->enter = [this] { startQc(); };
  p->blocker = [this]() -> QString {
    if (busy() || qc_.is_null()) return tr("Quality control is running…");
    if (qc_.contains("error")) return tr("Quality control could not run (see above): go Back to change the scan or the model.");
    if (!qcBlocked()) return {};
    if (!overrideCheck_->isChecked()) return tr("Quality control failed: the scan is classified only if you override the failure with a reason.");
    if (overrideReason_->text().trimmed().isEmpty()) return tr("Give the reason for the override; it is printed in the report.");
    return {};
  };
  p->addReasonLine();
}

QString DiagnosisWizard::site() const { return siteEdit_->text().trimmed(); }

bool DiagnosisWizard::qcBlocked() const { return qualityControlBlocks(qc_); }

QStringList DiagnosisWizard::commonArgs() const {
  QStringList a{QStringLiteral("--model"), modelCombo_->currentData().toString(), QStringLiteral("--in"), scanEdit_->text()};
  if (!confoundsEdit_->text().isEmpty()) a << QStringLiteral("--confounds") << confoundsEdit_->text();
  if (trSpin_->value() > 0) a << QStringLiteral("--tr") << QString::number(trSpin_->value());
  if (!siteEdit_->text().trimmed().isEmpty()) a << QStringLiteral("--site") << siteEdit_->text().trimmed();
  if (!thresholdsFile_.isEmpty()) a << QStringLiteral("--qc-thresholds") << thresholdsFile_;
  return a;
}

void DiagnosisWizard::startQc() {
  qc_ = json();
  qcTable_->setRowCount(0);
  qcSummary_->setText(tr("Running quality control…"));
  overrideCheck_->setVisible(false);
  overrideReason_->setVisible(false);
  qcProgress_->setValue(0);
  qcCancel_->setEnabled(true);
  QPointer<DiagnosisWizard> self(this);
  const auto args = QStringList{QStringLiteral("diagnose"), QStringLiteral("--qc-only"), QStringLiteral("--json")} + commonArgs();
  auto finish = [self](json result) {
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, result] {
          if (!self) return;
          self->job_.reset();
          self->qc_ = result;
          self->qcCancel_->setEnabled(false);
          self->qcProgress_->setValue(100);
          if (result.contains("error")) {
            self->qcSummary_->setText("<span style='color:#cf222e'>" + QString::fromStdString(result["error"].get<std::string>()).toHtmlEscaped() + "</span>");
          } else {
            const auto& items = result.at("items");
            self->qcTable_->setRowCount(static_cast<int>(items.size()));
            int r = 0;
            for (const auto& i : items) {
              const auto status = i.value("status", std::string());
              const QString value = i["value"].is_number() ? QString::number(i["value"].get<double>(), 'g', 4) : QString("—");
              const QStringList cells{QString::fromStdString(i.value("name", "")), value, QString::fromStdString(status),
                                      QString::fromStdString(i.value("rule", "")), QString::fromStdString(i.value("note", ""))};
              for (int c = 0; c < 5; ++c) {
                auto* item = new QTableWidgetItem(cells[c]);
                if (c == 2)
                  item->setForeground(status == "pass"   ? QColor(26, 127, 55)
                                      : status == "warn" ? QColor(154, 103, 0)
                                      : status == "fail" ? QColor(207, 34, 46)
                                                         : QColor(87, 96, 106));
                self->qcTable_->setItem(r, c, item);
              }
              ++r;
            }
            self->qcTable_->resizeColumnsToContents();
            const bool blocked = self->qcBlocked();
            self->qcSummary_->setText(
                blocked ? tr("<b style='color:#cf222e'>Quality control failed.</b> The scan is not classified unless you "
                             "override with a reason.")
                : result.value("overall", std::string()) == "incomplete"
                    ? tr("Overall: <b style='color:#9a6700'>%1</b>. A check that could not run is not a pass; the site's "
                         "policy lets the run go ahead, and the report says what was not checked.")
                          .arg(QString::fromStdString(result.value("verdict", std::string())))
                    : tr("Overall: <b>%1</b>.").arg(QString::fromStdString(result.value("verdict", result.value("overall", std::string())))));
            self->overrideCheck_->setVisible(blocked);
            self->overrideReason_->setVisible(blocked);
          }
          conditionPage(self.data(), QcPage)->refresh();
          Q_EMIT self->qcFinished();
        },
        Qt::QueuedConnection);
  };
  job_ = jobs_.submit("quality control " + QFileInfo(scanEdit_->text()).fileName().toStdString(), [self, args, finish](JobContext& job) {
    try {
      const auto out = runCli(job, args);
      finish(json::parse(out.toStdString()));
    } catch (const CancelledError&) {
      finish(json{{"error", "cancelled"}});
      throw;
    } catch (const std::exception& e) {
      finish(json{{"error", e.what()}});
      throw;
    }
  });
}

void DiagnosisWizard::buildRunPage() {
  auto* p = conditionPage(this, RunPage);
  p->setTitle(tr("4. Run"));
  p->setSubTitle(tr("Parcellating the scan, building its connectome and classifying it in the background."));
  runProgress_ = new QProgressBar;
  runProgress_->setToolTip(tr("Progress of the diagnosis job"));
  runCancel_ = new QPushButton(tr("Cancel"));
  runCancel_->setToolTip(tr("Stop the run; nothing is recorded"));
  connect(runCancel_, &QPushButton::clicked, this, &DiagnosisWizard::cancelRunning);
  runStage_ = new QLabel;
  runStage_->setWordWrap(true);
  auto* bar = new QHBoxLayout;
  bar->addWidget(runProgress_, 1);
  bar->addWidget(runCancel_);
  auto* v = new QVBoxLayout(p);
  v->addLayout(bar);
  v->addWidget(runStage_);
  v->addStretch(1);
  p->enter = [this] { startRun(); };
  p->blocker = [this]() -> QString {
    if (busy()) return tr("The diagnosis is running…");
    if (!runError_.isEmpty() || !record_.is_object() || !record_.contains("result")) return tr("The run did not finish (see above): go Back to try again.");
    return {};
  };
  p->addReasonLine();
}

void DiagnosisWizard::startRun() {
  record_ = json();
  runError_.clear();
  runProgress_->setValue(0);
  runCancel_->setEnabled(true);
  runStage_->setText(tr("Starting…"));
  QStringList args{QStringLiteral("diagnose"), QStringLiteral("--json")};
  if (!workspaceDir_.isEmpty()) args << QStringLiteral("--workspace") << workspaceDir_;
  args << commonArgs() << QStringLiteral("--patient-id") << patientEdit_->text().trimmed();
  if (pseudonymCheck_->isChecked()) args << QStringLiteral("--pseudonymise");
  if (qcBlocked() && overrideCheck_->isChecked()) args << QStringLiteral("--override-qc") << overrideReason_->text().trimmed();
  const auto user = qEnvironmentVariable("USER");
  if (!user.isEmpty()) args << QStringLiteral("--operator") << user;
  QPointer<DiagnosisWizard> self(this);
  auto finish = [self](json record, QString error) {
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, record, error] {
          if (!self) return;
          self->job_.reset();
          self->record_ = record;
          self->runError_ = error;
          self->runCancel_->setEnabled(false);
          if (error.isEmpty()) {
            self->runProgress_->setValue(100);
            self->runStage_->setText(tr("Done: report %1. Press Next for the result.").arg(QString::fromStdString(record.value("report_id", ""))));
          } else {
            self->runStage_->setText("<span style='color:#cf222e'>" + error.toHtmlEscaped() + "</span>");
          }
          conditionPage(self.data(), RunPage)->refresh();
          Q_EMIT self->runFinished(error.isEmpty());
        },
        Qt::QueuedConnection);
  };
  job_ = jobs_.submit("diagnose " + QFileInfo(scanEdit_->text()).fileName().toStdString(), [args, finish](JobContext& job) {
    try {
      const auto out = runCli(job, args);
      finish(json::parse(out.toStdString()), QString());
    } catch (const CancelledError&) {
      finish(json(), tr("Cancelled: nothing was recorded."));
      throw;
    } catch (const std::exception& e) {
      finish(json(), QString::fromStdString(e.what()));
      throw;
    }
  });
}

void DiagnosisWizard::buildResultPage() {
  auto* p = conditionPage(this, ResultPage);
  p->setTitle(tr("5. Result"));
  p->setSubTitle(tr("The prediction, how certain it is, whether the scan resembles the training data, and what contributed most to it."));
  resultSummary_ = new QLabel;
  resultSummary_->setWordWrap(true);
  resultSummary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  resultSummary_->setToolTip(tr("Predicted label, calibrated probability with its interval, threshold and out-of-distribution check"));
  glassBrain_ = new QLabel;
  glassBrain_->setToolTip(tr("Glass brain: the top regions (discs sized by saliency, numbered by rank) over the MNI brain outline"));
  networkBars_ = new QLabel;
  networkBars_->setToolTip(tr("Each network's share of the saliency"));
  auto* v = new QVBoxLayout(p);
  v->addWidget(resultSummary_);
  v->addWidget(glassBrain_);
  v->addWidget(networkBars_);
  v->addStretch(1);
  p->enter = [this] { showResult(); };
}

void DiagnosisWizard::showResult() {
  if (!record_.is_object()) return;
  const auto& r = record_.at("result");
  const auto positive = QString::fromStdString(r.value("positive_class", json("positive")).get<std::string>());
  QString h = tr("<p style='font-size:14pt'>Predicted: <b>%1</b></p>").arg(QString::fromStdString(r.at("label").get<std::string>()).toHtmlEscaped());
  h += tr("p(%1) = <b>%2</b>").arg(positive.toHtmlEscaped()).arg(r.at("probability").get<double>(), 0, 'f', 3);
  if (r.value("interval", json()).is_object())
    h += tr(", interval %1 – %2 (%3)")
             .arg(r["interval"]["low"].get<double>(), 0, 'f', 3)
             .arg(r["interval"]["high"].get<double>(), 0, 'f', 3)
             .arg(QString::fromStdString(r["interval"].value("method", "")).toHtmlEscaped());
  h += tr("<br>Decision threshold: %1").arg(r.value("threshold", 0.5), 0, 'f', 2);
  if (r.value("in_training_set", json()).is_boolean() && r["in_training_set"].get<bool>())
    h += tr("<br><b style='color:#cf222e'>This scan was used to train the model: the result is not an independent test.</b>");
  if (r.value("ood", json()).is_object()) {
    const auto& o = r["ood"];
    h += o.value("flag", false) ? tr("<br><b style='color:#cf222e'>Out of distribution:</b> the scan is unlike the training data.")
                                : tr("<br>Within the training distribution.");
    h += tr(" Mahalanobis distance %1 (threshold %2)").arg(o.value("distance", 0.0), 0, 'f', 3).arg(o.value("threshold", 0.0), 0, 'f', 3);
    if (o.contains("template_distance"))
      h += tr(", dissimilarity to the mean training connectome %1 (threshold %2)")
               .arg(o.value("template_distance", 0.0), 0, 'f', 3)
               .arg(o.value("template_threshold", 0.0), 0, 'f', 3);
    if (o.value("members", json()).is_array())
      h += tr("; %1 of %2 ensemble members flag it (distances are member 1's)").arg(o.value("members_flagged", 0)).arg(o["members"].size());
  }
  if (record_.at("qc").value("override", json()).is_object()) h += tr("<br><b style='color:#cf222e'>Quality control was overridden.</b>");
  const auto& e = record_.value("explanation", json::object());
  if (e.contains("summary")) h += "<br><br>" + QString::fromStdString(e["summary"].value("statement", std::string())).toHtmlEscaped();
  resultSummary_->setText(h);
  glassBrain_->setPixmap(QPixmap::fromImage(report::renderGlassBrain(e, brainMask_, 720, 240, 96, report::radiologicalFigures(record_))));
  glassBrain_->setMinimumSize(720, 240);
  networkBars_->setPixmap(QPixmap::fromImage(report::renderNetworkBars(e.value("networks", json::object()), 720, 150, 96)));
  networkBars_->setMinimumSize(720, 150);
}

void DiagnosisWizard::buildSignOffPage() {
  auto* p = conditionPage(this, SignOffPage);
  p->setTitle(tr("6. Sign-off and export"));
  p->setSubTitle(tr("Review the result, record your impression and sign. The signed report is stored in the workspace and written as a PDF."));
  clinicianEdit_ = new QLineEdit;
  clinicianEdit_->setToolTip(tr("The reviewing clinician's name, printed in the sign-off"));
  impressionEdit_ = new QTextEdit;
  impressionEdit_->setAcceptRichText(false);
  impressionEdit_->setTabChangesFocus(true);
  impressionEdit_->setToolTip(tr("Your clinical impression, printed in the sign-off"));
  pdfEdit_ = new QLineEdit;
  pdfEdit_->setToolTip(tr("Where the PDF report is written"));
  auto* browse = new QPushButton(tr("Browse…"));
  browse->setToolTip(tr("Choose where to save the PDF"));
  connect(browse, &QPushButton::clicked, this, [this] {
    const auto f = QFileDialog::getSaveFileName(this, tr("Save report"), pdfEdit_->text(), tr("PDF (*.pdf)"));
    if (!f.isEmpty()) pdfEdit_->setText(f);
  });
  auto* row = new QHBoxLayout;
  row->addWidget(pdfEdit_, 1);
  row->addWidget(browse);
  auto* form = new QFormLayout(p);
  form->addRow(tr("Clinician:"), clinicianEdit_);
  form->addRow(tr("Impression:"), impressionEdit_);
  form->addRow(tr("PDF:"), row);
  openPdfCheck_ = new QCheckBox(tr("Open the PDF when finished"));
  openPdfCheck_->setChecked(true);
  openPdfCheck_->setToolTip(tr("Show the written report in the system's PDF viewer"));
  form->addRow(QString(), openPdfCheck_);
  connect(clinicianEdit_, &QLineEdit::textChanged, p, &ConditionPage::refresh);
  connect(pdfEdit_, &QLineEdit::textChanged, p, &ConditionPage::refresh);
  p->enter = [this] {
    if (!pdfEdit_->text().isEmpty() || !record_.is_object()) return;
    const QString dir = workspaceDir_.isEmpty() ? QDir::homePath() : workspaceDir_ + QStringLiteral("/reports");
    pdfEdit_->setText(dir + "/" + QString::fromStdString(record_.value("report_id", std::string("report"))) + ".pdf");
  };
  p->blocker = [this]() -> QString {
    if (clinicianEdit_->text().trimmed().isEmpty()) return tr("Enter the reviewing clinician's name to sign the report.");
    if (pdfEdit_->text().trimmed().isEmpty()) return tr("Choose where to write the PDF.");
    return {};
  };
  p->addReasonLine();
}

bool DiagnosisWizard::exportReport() {
  try {
    signReport(record_, clinicianEdit_->text().trimmed().toStdString(), impressionEdit_->toPlainText().toStdString());
    const std::filesystem::path out = pdfEdit_->text().trimmed().toStdString();
    if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
    std::unique_ptr<Workspace> ws;
    if (!workspaceDir_.isEmpty()) {
      ws = Workspace::open(workspaceDir_.toStdString());
      saveReportRecord(*ws, record_);
    }
    report::ReportAssets assets;
    assets.brainMask = brainMask_;
    report::writeReportPdf(record_, out, assets);
    if (ws) {
      setReportPdf(*ws, record_.at("report_id").get<std::string>(), std::filesystem::absolute(out).string());
    }
    writtenReport_ = QString::fromStdString(out.string());
    spdlog::info("report {} signed by {} and written to {}", record_.at("report_id").get<std::string>(), clinicianEdit_->text().toStdString(), out.string());
    Q_EMIT reportWritten(writtenReport_);
    if (openPdfCheck_->isChecked()) Q_EMIT openPdfRequested(writtenReport_);
    return true;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    QMessageBox::warning(this, tr("Report not written"), QString::fromStdString(e.what()));
    return false;
  }
}

bool DiagnosisWizard::validateCurrentPage() {
  if (currentId() == SignOffPage) return exportReport();
  return QWizard::validateCurrentPage();
}

void DiagnosisWizard::setScan(const QString& file) { scanEdit_->setText(file); }
void DiagnosisWizard::setPatientId(const QString& id) { patientEdit_->setText(id); }
void DiagnosisWizard::setPseudonymise(bool on) { pseudonymCheck_->setChecked(on); }
void DiagnosisWizard::setQcThresholdsFile(const QString& file) { thresholdsFile_ = file; }

void DiagnosisWizard::setModel(const QString& file) {
  int i = modelCombo_->findData(file);
  if (i < 0) {
    modelCombo_->addItem(QFileInfo(file).fileName(), file);
    i = modelCombo_->count() - 1;
  }
  if (modelCombo_->currentIndex() == i)
    showCard(file);  // otherwise the index change reads it
  else
    modelCombo_->setCurrentIndex(i);
  conditionPage(this, ModelPage)->refresh();
}

void DiagnosisWizard::setQcOverride(bool on, const QString& reason) {
  overrideCheck_->setChecked(on);
  overrideReason_->setText(reason);
}

void DiagnosisWizard::setSignOff(const QString& clinician, const QString& impression, const QString& pdfPath) {
  clinicianEdit_->setText(clinician);
  impressionEdit_->setPlainText(impression);
  pdfEdit_->setText(pdfPath);
}

void DiagnosisWizard::cancelRunning() {
  if (job_) job_->requestCancel();
}

}  // namespace bg::ui
