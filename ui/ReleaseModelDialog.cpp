#include "ReleaseModelDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>
#include <spdlog/spdlog.h>

#include "CliRunner.h"
#include "eval/Results.h"
#include "workspace/Workspace.h"

namespace bg::ui {

ReleaseModelDialog::ReleaseModelDialog(const QString& workspaceDir, const QString& model, const QString& corpus, const QString& method, QWidget* parent)
    : QDialog(parent), workspace_(workspaceDir), model_(model) {
  setWindowTitle(tr("Release %1").arg(QFileInfo(model).fileName()));
  evaluation_ = new QComboBox(this);
  evaluation_->setToolTip(tr("The cross-validated evaluation the model card will quote (same corpus)"));
  try {
    auto ws = Workspace::open(workspace_.toStdString());
    int preferred = -1;
    for (const auto& e : listEvaluations(*ws)) {
      if (!corpus.isEmpty() && QString::fromStdString(e.corpus) != corpus) continue;
      const auto& r = e.result;
      const QString m = QString::fromStdString(r.value("method", std::string()));
      const double auc = r.contains("metrics") && r["metrics"].contains("auc") ? r["metrics"]["auc"].value("mean", 0.0) : 0.0;
      evaluation_->addItem(tr("#%1 %2, %3 (%4 folds): AUC %5")
                               .arg(e.id)
                               .arg(m, QString::fromStdString(r.value("split", nlohmann::json::object()).value("kind", std::string())))
                               .arg(r.value("split", nlohmann::json::object()).value("folds", 0))
                               .arg(auc, 0, 'f', 3),
                           QVariant::fromValue<qlonglong>(e.id));
      if (m == method) preferred = evaluation_->count() - 1;  // the newest of the model's own method
    }
    if (preferred >= 0) evaluation_->setCurrentIndex(preferred);
  } catch (const std::exception& e) {
    spdlog::warn("release: cannot list evaluations: {}", e.what());
  }
  name_ = new QLineEdit(this);
  name_->setToolTip(tr("Shown in the diagnosis wizard and on reports"));
  by_ = new QLineEdit(QString::fromLocal8Bit(qgetenv("USER")), this);
  by_->setToolTip(tr("Who releases the model"));
  const QFileInfo info(model);
  output_ = new QLineEdit(info.absolutePath() + QStringLiteral("/") + info.completeBaseName() + QStringLiteral("-release.") + info.suffix(), this);
  output_->setToolTip(tr("The released model file (a new file; the trained model stays as it is)"));
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  auto* form = new QFormLayout;
  form->addRow(tr("Model:"), new QLabel(model, this));
  form->addRow(tr("Evaluation:"), evaluation_);
  form->addRow(tr("Release name:"), name_);
  form->addRow(tr("Released by:"), by_);
  form->addRow(tr("Write to:"), output_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  ok_ = buttons->button(QDialogButtonBox::Ok);
  ok_->setText(tr("Release"));
  ok_->setToolTip(tr("Write the released model and record it in the workspace"));
  buttons->button(QDialogButtonBox::Cancel)->setToolTip(tr("Close without releasing"));
  connect(buttons, &QDialogButtonBox::accepted, this, &ReleaseModelDialog::release);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(message_);
  layout->addWidget(buttons);
  connect(name_, &QLineEdit::textChanged, this, &ReleaseModelDialog::revalidate);
  connect(output_, &QLineEdit::textChanged, this, &ReleaseModelDialog::revalidate);
  revalidate();
}

QString ReleaseModelDialog::message() const { return message_->text(); }

QStringList ReleaseModelDialog::arguments() const {
  QStringList a{QStringLiteral("release"),
                QStringLiteral("-w"),
                workspace_,
                QStringLiteral("--model"),
                model_,
                QStringLiteral("--evaluation"),
                QString::number(evaluation_->currentData().toLongLong()),
                QStringLiteral("--name"),
                name_->text().trimmed(),
                QStringLiteral("--out"),
                output_->text().trimmed()};
  if (!by_->text().trimmed().isEmpty()) a << QStringLiteral("--by") << by_->text().trimmed();
  return a;
}

void ReleaseModelDialog::revalidate() {
  QString problem;
  if (evaluation_->count() == 0)
    problem = tr("No evaluation of this corpus is stored: evaluate the method first (Run › Launch, evaluate).");
  else if (name_->text().trimmed().isEmpty())
    problem = tr("Name the release.");
  else if (output_->text().trimmed().isEmpty() || QFileInfo(output_->text().trimmed()) == QFileInfo(model_))
    problem = tr("Choose a new file to write.");
  message_->setStyleSheet(QStringLiteral("color: #cf222e"));
  message_->setText(problem);
  ok_->setEnabled(problem.isEmpty() && !process_);
}

void ReleaseModelDialog::release() {
  if (process_) return;
  ok_->setEnabled(false);
  const QString out = output_->text().trimmed();
  process_ = startDialogCli(
      this, arguments(), message_, tr("Releasing…"), tr("Released: %1").arg(out),
      [this, out] {
        process_ = nullptr;
        result_ = out;
        Q_EMIT released(result_);
        accept();
      },
      [this] {
        process_ = nullptr;
        revalidate();
      });
}

}  // namespace bg::ui
