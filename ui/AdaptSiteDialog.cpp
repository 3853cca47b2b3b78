#include "AdaptSiteDialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProcess>
#include <QPushButton>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

#include "CliRunner.h"
#include "EngineInfo.h"
#include "connectome/SiteStandardizer.h"
#include "eval/SiteAdaptation.h"

namespace bg::ui {

AdaptSiteDialog::AdaptSiteDialog(const QString& model, QWidget* parent) : QDialog(parent), model_(model) {
  setWindowTitle(tr("Adapt %1 to a new site").arg(QFileInfo(model).fileName()));
  site_ = new QLineEdit(this);
  site_->setPlaceholderText(tr("e.g. the hospital's scanner name"));
  site_->setToolTip(tr("The new site's name: give the same in the diagnosis wizard's Site field (or predict --site)"));
  scans_ = new QListWidget(this);
  scans_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  scans_->setToolTip(tr("At least %1 scans from the site (BOLD NIfTI or ROI time-series files), preferably a mix like its usual patients; "
                        "their labels are not needed (where they are known, Diagnoses known weights the statistics by them)")
                         .arg(SiteStandardizer::kMinScans));
  auto* add = new QPushButton(tr("Add Scans…"), this);
  add->setToolTip(tr("Choose scans of the site"));
  remove_ = new QPushButton(tr("Remove"), this);
  remove_->setToolTip(tr("Remove the selected scans from the list"));
  connect(add, &QPushButton::clicked, this, [this] {
    addScans(
        QFileDialog::getOpenFileNames(this, tr("Scans of the site"), QString(), tr("Scans (*.nii *.nii.gz *.1D *.1D.gz *.csv *.tsv *.npy);;All files (*)")));
  });
  connect(remove_, &QPushButton::clicked, this, [this] {
    qDeleteAll(scans_->selectedItems());
    revalidate();
  });
  known_ = new QCheckBox(tr("Diagnoses known"), this);
  known_->setToolTip(tr("Mark each scan's diagnosis: the site's statistics are then weighted to the training scans' mix of classes, so that a batch "
                        "of mostly patients (or controls) does not shift the site's scores. At least %1 scans of each class.")
                         .arg(SiteStandardizer::kMinLabelledPerClass));
  known_->setEnabled(false);  // until the model's class names are read
  for (int c = 0; c < 2; ++c) {
    mark_[c] = new QPushButton(this);
    connect(mark_[c], &QPushButton::clicked, this, [this, c] { markScans(c); });
  }
  unmark_ = new QPushButton(tr("Unmark"), this);
  unmark_->setToolTip(tr("Clear the selected scans' diagnosis"));
  connect(unmark_, &QPushButton::clicked, this, [this] { markScans(-1); });
  connect(known_, &QCheckBox::toggled, this, &AdaptSiteDialog::revalidate);
  connect(scans_, &QListWidget::itemSelectionChanged, this, &AdaptSiteDialog::revalidate);
  const QFileInfo info(model);
  output_ = new QLineEdit(this);
  output_->setToolTip(tr("The adapted model file (a new file; the trained model stays as it is)"));
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  auto* scanButtons = new QHBoxLayout;
  scanButtons->addWidget(add);
  scanButtons->addWidget(remove_);
  scanButtons->addStretch(1);
  scanButtons->addWidget(known_);
  scanButtons->addWidget(mark_[1]);
  scanButtons->addWidget(mark_[0]);
  scanButtons->addWidget(unmark_);
  auto* scanBox = new QVBoxLayout;
  scanBox->addWidget(scans_);
  scanBox->addLayout(scanButtons);
  auto* form = new QFormLayout;
  form->addRow(tr("Model:"), new QLabel(model, this));
  form->addRow(tr("Site:"), site_);
  form->addRow(tr("Scans:"), scanBox);
  form->addRow(tr("Write to:"), output_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  ok_ = buttons->button(QDialogButtonBox::Ok);
  ok_->setText(tr("Adapt"));
  ok_->setToolTip(tr("Compute the site's statistics from its scans and write the adapted model"));
  buttons->button(QDialogButtonBox::Cancel)->setToolTip(tr("Close without adapting"));
  connect(buttons, &QDialogButtonBox::accepted, this, &AdaptSiteDialog::adapt);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(tr("A model whose input is standardised per site uses the pooled statistics for a site it was not trained on. "
                                  "Scans of that site give it statistics of its own. Their diagnoses are not needed; where they are known, "
                                  "marking them weights the statistics to the training scans' mix of classes."),
                               this));
  layout->addLayout(form);
  layout->addWidget(message_);
  layout->addWidget(buttons);
  // The output follows the site's name until the user edits it.
  const auto followSite = [this, info] {
    const QString s = site_->text().trimmed();
    if (!output_->isModified())
      output_->setText(info.absolutePath() + QStringLiteral("/") + info.completeBaseName() + QStringLiteral("-") + (s.isEmpty() ? QStringLiteral("site") : s) +
                       QStringLiteral(".") + info.suffix());
    revalidate();
  };
  connect(site_, &QLineEdit::textChanged, this, followSite);
  connect(output_, &QLineEdit::textChanged, this, &AdaptSiteDialog::revalidate);
  followSite();
  readClasses();
}

void AdaptSiteDialog::readClasses() {
  auto* p = new QProcess(this);
  connect(p, &QProcess::finished, this, [this, p](int code, QProcess::ExitStatus status) {
    p->deleteLater();
    if (status != QProcess::NormalExit || code != 0) return;  // adapt-site itself will say what is wrong with the model
    const auto card = nlohmann::json::parse(p->readAllStandardOutput().toStdString(), nullptr, false);
    if (card.is_discarded() || !card.contains("classes") || card["classes"].size() != 2) return;
    for (const auto& c : card["classes"]) classes_ << QString::fromStdString(c.get<std::string>());
    for (int c = 0; c < 2; ++c) {
      mark_[c]->setText(tr("Mark %1").arg(classes_[c]));
      mark_[c]->setToolTip(tr("Mark the selected scans as %1").arg(classes_[c]));
    }
    known_->setEnabled(true);
    revalidate();
  });
  p->start(EngineInfo::cliPath(), {QStringLiteral("--quiet"), QStringLiteral("model"), model_});
}

void AdaptSiteDialog::addScans(const QStringList& files) {
  const auto present = scans();
  for (const auto& f : files)
    if (!present.contains(f)) {
      auto* item = new QListWidgetItem(f, scans_);
      item->setData(Qt::UserRole, f);
    }
  revalidate();
}

QStringList AdaptSiteDialog::scans() const {
  QStringList out;
  for (int i = 0; i < scans_->count(); ++i) out << scans_->item(i)->data(Qt::UserRole).toString();
  return out;
}

QStringList AdaptSiteDialog::labels() const {
  QStringList out;
  for (int i = 0; i < scans_->count(); ++i) out << scans_->item(i)->data(Qt::UserRole + 1).toString();
  return out;
}

void AdaptSiteDialog::selectScans(const QStringList& files) {
  for (int i = 0; i < scans_->count(); ++i) scans_->item(i)->setSelected(files.contains(scans_->item(i)->data(Qt::UserRole).toString()));
}

void AdaptSiteDialog::markScans(int index) {
  if (index >= classes_.size()) return;
  for (auto* item : scans_->selectedItems()) {
    const QString label = index < 0 ? QString() : classes_[index];
    item->setData(Qt::UserRole + 1, label);
    const QString file = item->data(Qt::UserRole).toString();
    item->setText(label.isEmpty() ? file : QStringLiteral("%1 — %2").arg(label, file));
  }
  revalidate();
}

QString AdaptSiteDialog::message() const { return message_->text(); }

QStringList AdaptSiteDialog::arguments() const {
  QStringList a{QStringLiteral("adapt-site"), QStringLiteral("--model"), model_, QStringLiteral("--site"), site_->text().trimmed(), QStringLiteral("--out"),
                output_->text().trimmed(),    QStringLiteral("--in")};
  a << scans();
  if (known_->isChecked()) a << QStringLiteral("--labels") << labels();
  return a;
}

QString AdaptSiteDialog::problem() const {
  if (site_->text().trimmed().isEmpty()) return tr("Name the site.");
  if (scans_->count() < SiteStandardizer::kMinScans)
    return tr("Add at least %1 scans of the site (%2 so far).").arg(SiteStandardizer::kMinScans).arg(scans_->count());
  if (output_->text().trimmed().isEmpty() || QFileInfo(output_->text().trimmed()) == QFileInfo(model_)) return tr("Choose a new file to write.");
  if (known_->isChecked()) {
    const auto marked = labels();
    if (const auto unmarked = marked.count(QString()); unmarked > 0)
      return tr("Mark every scan's diagnosis (%1 unmarked), or uncheck Diagnoses known.").arg(unmarked);
    for (const auto& c : classes_)
      if (marked.count(c) < SiteStandardizer::kMinLabelledPerClass)
        return tr("Weighting by diagnosis needs at least %1 scans of each class (%2: %3).")
            .arg(SiteStandardizer::kMinLabelledPerClass)
            .arg(c)
            .arg(marked.count(c));
  }
  return {};
}

void AdaptSiteDialog::revalidate() {
  const QString p = problem();
  message_->setStyleSheet(QStringLiteral("color: #cf222e"));
  message_->setText(p);
  if (p.isEmpty() && scans_->count() < kRecommendedAdaptationScans) {  // allowed, but worth knowing before the clinic relies on it
    message_->setStyleSheet(QString());
    message_->setText(QString::fromStdString(siteAdaptationAdvice(scans_->count(), false)));  // the CLI's own caution
  }
  ok_->setEnabled(p.isEmpty() && !process_);
  const bool selected = !scans_->selectedItems().isEmpty();
  remove_->setEnabled(selected);
  for (auto* b : {mark_[0], mark_[1], unmark_}) {
    b->setVisible(known_->isChecked());
    b->setEnabled(selected);
  }
}

void AdaptSiteDialog::adapt() {
  if (process_ || !problem().isEmpty()) return;
  ok_->setEnabled(false);
  const QString out = output_->text().trimmed();
  process_ = startDialogCli(
      this, arguments(), message_, tr("Adapting…"), tr("Adapted: %1").arg(out),
      [this, out] {
        process_ = nullptr;
        result_ = out;
        Q_EMIT adapted(result_);
        accept();
      },
      [this] {
        process_ = nullptr;
        revalidate();
      });
}

}  // namespace bg::ui
