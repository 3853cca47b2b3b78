#pragma once
// Help › Get Data…: which atlases (and ABIDE example data) to download, where to, from which server, with each source's
// licence shown before anything is fetched. The fetch itself runs as a job (progress, cancel).
#include <QDialog>
#include <QStringList>

#include <vector>

#include "fetch/DataFetch.h"

class QLineEdit;
class QTableWidget;
class QLabel;

namespace bg::ui {

class GetDataDialog : public QDialog {
  Q_OBJECT
 public:
  explicit GetDataDialog(QWidget* parent = nullptr);
  std::vector<std::string> chosenAtlases() const;  // checked rows
  QString folder() const;
  QString mirror() const;
  QTableWidget* table() const { return table_; }
  // The manifests' files of the chosen atlases (what the job fetches).
  std::vector<DataFile> chosenFiles() const;

 private:
  void refresh();
  std::vector<DataFile> all_;
  QTableWidget* table_;
  QLineEdit* folder_;
  QLineEdit* mirror_;
  QLabel* summary_;
};

}  // namespace bg::ui
