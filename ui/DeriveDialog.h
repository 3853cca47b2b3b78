#pragma once
// Tools › Derive: which scans (the selected ones, those the filter shows, or all), which atlases and
// which pipeline settings (by default the ones the workspace's connectomes already use), with what
// will be computed said before anything runs. Connectomes already derived with the chosen settings
// are kept; nothing is re-derived with other settings unless the user chooses them.
#include <cstdint>
#include <vector>

#include <QDialog>

#include "workspace/Derivation.h"

class QComboBox;
class QLabel;
class QListWidget;

namespace bg {
class AtlasRegistry;
class Workspace;
}  // namespace bg

namespace bg::ui {

class DeriveDialog : public QDialog {
  Q_OBJECT
 public:
  DeriveDialog(Workspace& ws, const AtlasRegistry& registry, std::vector<std::int64_t> selected, std::vector<std::int64_t> shown, QWidget* parent = nullptr);
  // What OK will run.
  DeriveRequest request() const;
  QComboBox* scope() const { return scope_; }
  QListWidget* atlases() const { return atlases_; }
  QComboBox* settings() const { return settings_; }
  QLabel* summary() const { return summary_; }

 private:
  void updateSummary();
  std::vector<std::int64_t> selected_, shown_;
  std::vector<ParameterSet> sets_;
  int allScans_ = 0;
  QComboBox* scope_;
  QListWidget* atlases_;
  QComboBox* settings_;
  QLabel* summary_;
};

}  // namespace bg::ui
