#pragma once
// File › Reports: every diagnosis report stored in the workspace (id, patient, result, signer, date),
// regenerated from its record into a PDF on request (the same renderer as the wizard and the CLI).
#include <filesystem>
#include <optional>

#include <QDialog>

class QTableWidget;
class QPushButton;

namespace bg::ui {

class ReportsDialog : public QDialog {
  Q_OBJECT
 public:
  ReportsDialog(const QString& workspaceDir, std::optional<std::filesystem::path> brainMask, QWidget* parent = nullptr);
  QTableWidget* table() const { return table_; }
  // Writes the selected report's PDF to `pdf` (from its stored record); false with a message on failure.
  bool regenerateSelected(const QString& pdf);
  void reload();

 private:
  QString workspaceDir_;
  std::optional<std::filesystem::path> brainMask_;
  QTableWidget* table_;
  QPushButton *regenerate_, *open_;
};

}  // namespace bg::ui
