#pragma once
// File › New Corpus: select derived scans, label them and split them — what `braingraph-cli corpus
// create` does, with the same checks (core's buildCorpusManifest and saveCorpus). The scans and
// classes a definition selects are previewed as it is edited; Create stays disabled until it is valid.
#include <QDialog>
#include <QString>

#include "workspace/Corpus.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTimer;

namespace bg::ui {

class CorpusDialog : public QDialog {
  Q_OBJECT
 public:
  explicit CorpusDialog(const QString& workspaceDir, QWidget* parent = nullptr);
  // The definition the fields describe (throws bg::Error for a filter it cannot read).
  CorpusSpec spec() const;
  // Checks the definition now (the fields do it after a short pause): the preview, or what is wrong.
  void revalidate();
  QString preview() const;
  // Stores the corpus; false (and the reason in the preview) when the workspace refuses it.
  bool create();

  QLineEdit* name() const { return name_; }
  QComboBox* atlas() const { return atlas_; }
  QComboBox* label() const { return label_; }
  QLineEdit* classes() const { return classes_; }
  QPlainTextEdit* filters() const { return filters_; }
  QComboBox* split() const { return split_; }
  QSpinBox* folds() const { return folds_; }
  QSpinBox* seed() const { return seed_; }
  QPushButton* createButton() const { return create_; }

 Q_SIGNALS:
  void created(const QString& name);

 private:
  QString workspace_;
  QLineEdit *name_, *classes_;
  QComboBox *atlas_, *label_, *split_;
  QPlainTextEdit* filters_;
  QSpinBox *folds_, *seed_;
  QDoubleSpinBox *train_, *validation_;
  QLabel* preview_;
  QPushButton* create_;
  QTimer* pause_;
};

}  // namespace bg::ui
