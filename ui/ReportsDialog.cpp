#include "ReportsDialog.h"

#include <map>
#include <set>

#include <QColor>
#include <QDesktopServices>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QUrl>
#include <QVBoxLayout>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "report/Diagnosis.h"
#include "pdf/ReportPdf.h"
#include "workspace/ReportStore.h"
#include "workspace/Workspace.h"

namespace bg::ui {
using nlohmann::json;

ReportsDialog::ReportsDialog(const QString& workspaceDir, std::optional<std::filesystem::path> brainMask, QWidget* parent)
    : QDialog(parent), workspaceDir_(workspaceDir), brainMask_(std::move(brainMask)) {
  setWindowTitle(tr("Reports in the workspace"));
  table_ = new QTableWidget(0, 8, this);
  table_->setHorizontalHeaderLabels({tr("Report"), tr("Patient"), tr("Model"), tr("Result"), tr("Probability"), tr("QC"), tr("Signed by"), tr("Created")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setToolTip(
      tr("Every stored diagnosis report; its PDF is regenerated from the stored record. A patient whose reports "
         "disagree (different results) is marked in red."));
  regenerate_ = new QPushButton(tr("Regenerate PDF…"), this);
  regenerate_->setToolTip(tr("Write the selected report's PDF again from its stored record"));
  open_ = new QPushButton(tr("Open PDF"), this);
  open_->setToolTip(tr("Open the PDF last written for the selected report"));
  auto* close = new QPushButton(tr("Close"), this);
  close->setToolTip(tr("Close this list"));
  connect(close, &QPushButton::clicked, this, &QDialog::accept);
  connect(regenerate_, &QPushButton::clicked, this, [this] {
    const int row = table_->currentRow();
    if (row < 0) return;
    const QString suggested = table_->item(row, 0)->data(Qt::UserRole).toString();
    const auto file = QFileDialog::getSaveFileName(this, tr("Save report"), suggested, tr("PDF (*.pdf)"));
    if (!file.isEmpty()) regenerateSelected(file);
  });
  connect(open_, &QPushButton::clicked, this, [this] {
    const int row = table_->currentRow();
    if (row < 0) return;
    const QString pdf = table_->item(row, 0)->data(Qt::UserRole).toString();
    if (QFileInfo::exists(pdf))
      QDesktopServices::openUrl(QUrl::fromLocalFile(pdf));
    else
      QMessageBox::information(this, tr("Open PDF"), tr("No PDF at %1: regenerate it.").arg(pdf));
  });
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(regenerate_);
  buttons->addWidget(open_);
  buttons->addStretch(1);
  buttons->addWidget(close);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(table_);
  layout->addLayout(buttons);
  resize(900, 420);
  reload();
}

void ReportsDialog::reload() {
  table_->setRowCount(0);
  try {
    auto ws = Workspace::open(workspaceDir_.toStdString());
    std::map<QString, std::set<QString>> labelsOf;  // patient -> the results of their reports
    std::map<QString, QStringList> resultsOf;       // patient -> "label (model)" lines
    for (const auto& stored : listReports(*ws)) {
      const auto& record = stored.record;
      const auto& result = record.value("result", json::object());
      const int row = table_->rowCount();
      table_->insertRow(row);
      QString pdf = QString::fromStdString(stored.pdfPath);
      if (pdf.isEmpty()) pdf = workspaceDir_ + QStringLiteral("/reports/") + QString::fromStdString(stored.id) + QStringLiteral(".pdf");
      // The model: its release name when released, else its file.
      QString model;
      const auto release = record.value("model_card", json::object()).value("release", json());
      if (release.is_object()) model = QString::fromStdString(release.value("name", std::string()));
      for (const auto& input : record.value("inputs", json::array()))
        if (model.isEmpty() && input.value("role", std::string()) == "model") model = QString::fromStdString(input.value("name", std::string()));
      const QString patient = QString::fromStdString(record.value("patient", json::object()).value("id", std::string()));
      const QString label = QString::fromStdString(result.value("label", std::string()));
      labelsOf[patient].insert(label);
      resultsOf[patient] << tr("%1 by %2 (%3)").arg(label, model, QString::fromStdString(stored.id));
      const QStringList cells{QString::fromStdString(stored.id),
                              patient,
                              model,
                              label,
                              QString::number(result.value("probability", 0.0), 'f', 3),
                              QString::fromStdString(record.value("qc", json::object()).value("overall", std::string())),
                              QString::fromStdString(stored.signedBy),
                              QString::fromStdString(stored.createdAt)};
      for (int c = 0; c < cells.size(); ++c) table_->setItem(row, c, new QTableWidgetItem(cells[c]));
      table_->item(row, 0)->setData(Qt::UserRole, pdf);
    }
    // Patients whose reports disagree are marked, with every result in the tooltip.
    for (int row = 0; row < table_->rowCount(); ++row) {
      auto* item = table_->item(row, 1);
      const QString patient = item->text();
      if (labelsOf[patient].size() < 2) continue;
      item->setText(patient + QStringLiteral(" ⚠"));
      item->setData(Qt::UserRole, true);
      item->setForeground(QColor(207, 34, 46));
      item->setToolTip(tr("This patient's reports disagree:\n%1").arg(resultsOf[patient].join(QLatin1Char('\n'))));
    }
    table_->resizeColumnsToContents();
    if (table_->rowCount() > 0) table_->selectRow(0);
  } catch (const std::exception& e) {
    spdlog::error("reports: {}", e.what());
  }
  regenerate_->setEnabled(table_->rowCount() > 0);
  open_->setEnabled(table_->rowCount() > 0);
}

bool ReportsDialog::regenerateSelected(const QString& pdf) {
  const int row = table_->currentRow();
  if (row < 0) return false;
  try {
    auto ws = Workspace::open(workspaceDir_.toStdString());
    const auto id = table_->item(row, 0)->text().toStdString();
    const auto record = loadReportRecord(*ws, id);
    if (!record) throw std::runtime_error("the workspace has no report " + id);
    report::ReportAssets assets;
    assets.brainMask = brainMask_;
    const std::filesystem::path out = pdf.toStdString();
    if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
    report::writeReportPdf(*record, out, assets);
    setReportPdf(*ws, id, std::filesystem::absolute(out).string());
    table_->item(row, 0)->setData(Qt::UserRole, pdf);
    spdlog::info("report {} regenerated to {}", id, out.string());
    return true;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    QMessageBox::warning(this, tr("Report not written"), QString::fromStdString(e.what()));
    return false;
  }
}

}  // namespace bg::ui
