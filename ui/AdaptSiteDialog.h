#pragma once
// Adapt a per-site harmonised model (input fc-site or tangent-site) to a new acquisition site: name
// the site and pick a few of its scans (unlabelled); the CLI (`braingraph-cli adapt-site`) writes a
// copy of the model that standardises that site's scans with their own statistics. The diagnosis
// wizard's Site field then selects them. When the scans' diagnoses are known, marking them weights
// the statistics to the training mix (adapt-site --labels), so a batch of mostly patients does not
// shift the site's scores; the model's class names are read through the CLI when the dialog opens.
#include <QDialog>
#include <QStringList>

class QCheckBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QProcess;

namespace bg::ui {

class AdaptSiteDialog : public QDialog {
  Q_OBJECT
 public:
  explicit AdaptSiteDialog(const QString& model, QWidget* parent = nullptr);
  QStringList arguments() const;
  QLineEdit* site() const { return site_; }
  QLineEdit* output() const { return output_; }
  void addScans(const QStringList& files);
  QStringList scans() const;
  // Labelled mode: each listed scan's marked class ("" when unmarked); markScans() marks the selected
  // scans with class `index` (0 or 1 of the model's classes) or clears them (-1).
  QCheckBox* diagnosesKnown() const { return known_; }
  QStringList classes() const { return classes_; }
  QStringList labels() const;
  void selectScans(const QStringList& files);
  void markScans(int index);
  QString problem() const;  // why Adapt is disabled; empty when it is not
  QString message() const;
  QString result() const { return result_; }
  // Runs the adaptation (asynchronously); emits adapted() when the file is written.
  void adapt();

 Q_SIGNALS:
  void adapted(const QString& file);

 private:
  void revalidate();
  void readClasses();
  QString model_, result_;
  QStringList classes_;
  QCheckBox* known_;
  QPushButton *mark_[2], *unmark_;
  QLineEdit *site_, *output_;
  QListWidget* scans_;
  QLabel* message_;
  QPushButton *ok_, *remove_;
  QProcess* process_ = nullptr;
};

}  // namespace bg::ui
