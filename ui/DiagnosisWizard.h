#pragma once
// The clinician's path from a scan to a signed PDF: scan and identifiers -> task and model (its card)
// -> quality control (a fail blocks unless overridden with a reason) -> the run in the background
// (progress, cancel) -> the result with its uncertainty, out-of-distribution flag and explanation ->
// sign-off and export. QC and the prediction run in braingraph-cli (`diagnose`), like every model
// job; the record and the PDF are written here from the same core and report code the CLI uses.
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <QWizard>
#include <nlohmann/json.hpp>

#include "eval/ModelCard.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;
class QTextBrowser;
class QTextEdit;

namespace bg {
class Job;
class JobRunner;
}  // namespace bg

namespace bg::ui {

class DiagnosisWizard : public QWizard {
  Q_OBJECT
 public:
  enum Page { ScanPage, ModelPage, QcPage, RunPage, ResultPage, SignOffPage };
  DiagnosisWizard(JobRunner& jobs, const QString& workspaceDir, std::optional<std::filesystem::path> brainMask, QWidget* parent = nullptr);

  // What the pages hold (tests and the main window set them; the user types them).
  void setScan(const QString& file);
  void setPatientId(const QString& id);
  void setPseudonymise(bool on);
  void setModel(const QString& file);
  void setQcOverride(bool on, const QString& reason);
  void setSignOff(const QString& clinician, const QString& impression, const QString& pdfPath);
  void setQcThresholdsFile(const QString& file);  // optional site thresholds (JSON)
  // The atlases a BOLD volume can be parcellated with; a model on another atlas needs time series.
  void setRegisteredAtlases(const QStringList& ids);
  QCheckBox* openPdfCheck() const { return openPdfCheck_; }
  QComboBox* modelCombo() const { return modelCombo_; }

  const nlohmann::json& qcResult() const { return qc_; }
  QString site() const;  // the acquisition site passed on (prefilled for a workspace scan)
  const nlohmann::json& record() const { return record_; }
  QString writtenReport() const { return writtenReport_; }
  bool qcBlocked() const;
  QString modelCardText() const;  // the model page's card, as shown
  bool busy() const { return job_ != nullptr; }
  void cancelRunning();

 Q_SIGNALS:
  void qcFinished();
  void runFinished(bool ok);
  void reportWritten(const QString& pdf);
  void openPdfRequested(const QString& pdf);  // Finish with "Open the PDF" ticked

 protected:
  bool validateCurrentPage() override;

 private:
  void buildScanPage();
  void buildModelPage();
  void buildQcPage();
  void buildRunPage();
  void buildResultPage();
  void buildSignOffPage();
  void loadModels();
  void showCard(const QString& file);
  void startQc();
  void startRun();
  void showResult();
  bool exportReport();
  QStringList commonArgs() const;
  bool scanIsNifti() const;
  void inspectScan(const QString& file);
  QString inputProblem() const;  // why the scan cannot be prepared for the chosen model; empty when it can

  struct ModelChoice {
    QString path, task, label;
    bool released = false;
    double cvAuc = 0, validationAuc = 0;  // NaN when the card has none
  };

  JobRunner& jobs_;
  QString workspaceDir_, thresholdsFile_;
  std::optional<std::filesystem::path> brainMask_;
  std::shared_ptr<Job> job_;
  quint64 cardRequest_ = 0;  // the model-card read whose answer counts
  class JobBridge* bridge_;
  std::vector<ModelChoice> models_;  // released first, best stored evaluation first
  QStringList registeredAtlases_;
  int scanColumns_ = 0;  // ROI columns of a time-series scan
  QString scanProblem_;  // why the scan file cannot be read
  nlohmann::json qc_, record_;
  std::optional<ModelCard> card_;  // the chosen model's, read through the CLI
  QString writtenReport_, runError_;

  QLineEdit *scanEdit_, *patientEdit_, *confoundsEdit_;
  QDoubleSpinBox* trSpin_;
  QLineEdit* siteEdit_;
  QCheckBox* pseudonymCheck_;
  QCheckBox* openPdfCheck_ = nullptr;
  QLabel* pseudonymLabel_;
  QComboBox *taskCombo_, *modelCombo_;
  QTextBrowser* cardView_;
  QTableWidget* qcTable_;
  QLabel *qcSummary_, *runStage_, *resultSummary_, *glassBrain_, *networkBars_;
  QProgressBar *qcProgress_, *runProgress_;
  QCheckBox* overrideCheck_;
  QLineEdit* overrideReason_;
  QPushButton *qcCancel_, *runCancel_;
  QLineEdit *clinicianEdit_, *pdfEdit_;
  QTextEdit* impressionEdit_;
};

}  // namespace bg::ui
