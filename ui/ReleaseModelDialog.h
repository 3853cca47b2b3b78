#pragma once
// Release a trained model: pick the stored evaluation that backs it, name the release; the CLI
// (`braingraph-cli release`) writes a copy whose card carries that evaluation and records it in the
// workspace, where the diagnosis wizard offers it.
#include <QDialog>
#include <QStringList>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QProcess;

namespace bg::ui {

class ReleaseModelDialog : public QDialog {
  Q_OBJECT
 public:
  // model: the train run's output; corpus and method preselect the matching evaluation.
  ReleaseModelDialog(const QString& workspaceDir, const QString& model, const QString& corpus, const QString& method, QWidget* parent = nullptr);
  QStringList arguments() const;
  QComboBox* evaluation() const { return evaluation_; }
  QLineEdit* name() const { return name_; }
  QLineEdit* output() const { return output_; }
  QString result() const { return result_; }
  QString message() const;
  // Runs the release (asynchronously); emits released() when the file is written.
  void release();

 Q_SIGNALS:
  void released(const QString& file);

 private:
  void revalidate();
  QString workspace_, model_, result_;
  QComboBox* evaluation_;
  QLineEdit *name_, *by_, *output_;
  QLabel* message_;
  QPushButton* ok_;
  QProcess* process_ = nullptr;
};

}  // namespace bg::ui
