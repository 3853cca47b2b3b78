#pragma once
// The workspace's scans as a table (dataset, subject, kind, atlas, connectomes and the most common
// phenotype columns) with a filter box that searches every column.
#include <cstdint>
#include <vector>

#include <QWidget>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;

namespace bg {
class Workspace;
}

namespace bg::ui {

class ScanBrowser : public QWidget {
  Q_OBJECT
 public:
  explicit ScanBrowser(QWidget* parent = nullptr);
  void setWorkspace(Workspace* ws);  // null: none open
  QTableView* table() const { return table_; }
  QLineEdit* filter() const { return filter_; }
  int visibleRows() const;
  // Selects the row of a scan (false when it is not shown).
  bool selectScan(std::int64_t scanId);
  // Selects the first row shown (false when there is none).
  bool selectFirstScan();
  QString currentScanPath() const;                    // the selected scan's file ("" when none)
  std::vector<std::int64_t> selectedScanIds() const;  // every selected row (Ctrl/Shift-click selects several)
  std::vector<std::int64_t> shownScanIds() const;     // every row the filter shows

 Q_SIGNALS:
  void scanSelected(qint64 scanId);

 private:
  QLabel* title_;
  QLineEdit* filter_;
  QTableView* table_;
  QStandardItemModel* model_;
  QSortFilterProxyModel* proxy_;
};

}  // namespace bg::ui
