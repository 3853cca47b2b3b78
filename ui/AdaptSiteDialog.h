#pragma once
// Adapt a per-site harmonised model (input fc-site or tangent-site) to a new acquisition site: name
// the site and pick a few of its scans (unlabelled); the CLI (`braingraph-cli adapt-site`) writes a
// copy of the model that standardises that site's scans with their own statistics. The diagnosis
// wizard's Site field then selects them.
#include <QDialog>
#include <QStringList>

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
  QString problem() const;  // why Adapt is disabled; empty when it is not
  QString message() const;
  QString result() const { return result_; }
  // Runs the adaptation (asynchronously); emits adapted() when the file is written.
  void adapt();

 Q_SIGNALS:
  void adapted(const QString& file);

 private:
  void revalidate();
  QString model_, result_;
  QLineEdit *site_, *output_;
  QListWidget* scans_;
  QLabel* message_;
  QPushButton *ok_, *remove_;
  QProcess* process_ = nullptr;
};

}  // namespace bg::ui
