#include "CorpusDialog.h"

#include <map>

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>
#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "platform/Strings.h"
#include "workspace/Derivation.h"
#include "workspace/Workspace.h"
#include "workspace/WorkspaceQueries.h"

namespace bg::ui {

CorpusDialog::CorpusDialog(const QString& workspaceDir, QWidget* parent) : QDialog(parent), workspace_(workspaceDir) {
  setWindowTitle(tr("New Corpus"));
  name_ = new QLineEdit(this);
  name_->setToolTip(tr("The corpus's name: runs, evaluations and the Launch form refer to it"));
  atlas_ = new QComboBox(this);
  atlas_->setEditable(true);
  atlas_->setToolTip(
      tr("The parcellation of the connectomes it holds; several, comma-separated (cc200,ho), make a multi-atlas corpus whose "
         "splits keep each subject's graphs together"));
  label_ = new QComboBox(this);
  label_->setEditable(true);
  label_->setToolTip(tr("The phenotype that labels each scan (diagnosis: ABIDE's DX_GROUP as control or autism)"));
  atlas_->lineEdit()->setToolTip(atlas_->toolTip());  // the editable boxes' own editors
  label_->lineEdit()->setToolTip(label_->toolTip());
  try {
    auto ws = Workspace::open(workspace_.toStdString());
    for (const auto& a : derivedAtlases(*ws)) atlas_->addItem(QString::fromStdString(a));
    label_->addItem(QStringLiteral("diagnosis"));
    for (const auto& p : phenotypeNames(*ws))
      if (p != "diagnosis") label_->addItem(QString::fromStdString(p));
  } catch (const std::exception& e) {
    spdlog::warn("new corpus: {}", e.what());
  }
  classes_ = new QLineEdit(this);
  classes_->setPlaceholderText(tr("every value, sorted"));
  classes_->setToolTip(tr("The label values to keep, in class order, comma-separated (control, autism: the second is the positive class)"));
  filters_ = new QPlainTextEdit(this);
  filters_->setPlaceholderText(tr("one per line, e.g. site!=NYU or AGE_AT_SCAN<30"));
  filters_->setToolTip(tr("Which scans: phenotype conditions (= != < <= > >=), all of them must hold"));
  filters_->setMaximumHeight(70);
  split_ = new QComboBox(this);
  split_->addItem(tr("k-fold (stratified)"), QStringLiteral("kfold"));
  split_->addItem(tr("leave one site out"), QStringLiteral("leave-site-out"));
  split_->addItem(tr("fixed train / validation / test"), QStringLiteral("fixed"));
  split_->setToolTip(tr("How evaluations split the scans: k stratified folds, one fold per acquisition site, or one fixed split"));
  folds_ = new QSpinBox(this);
  folds_->setRange(2, 1000);
  folds_->setValue(10);
  folds_->setToolTip(tr("k for the k-fold split"));
  seed_ = new QSpinBox(this);
  seed_->setRange(0, 1000000);
  seed_->setToolTip(tr("Seed of the split: the same seed, the same folds"));
  train_ = new QDoubleSpinBox(this);
  train_->setRange(0.01, 1.0);
  train_->setSingleStep(0.05);
  train_->setValue(0.7);
  train_->setToolTip(tr("Fixed split: the share of the scans that trains"));
  validation_ = new QDoubleSpinBox(this);
  validation_->setRange(0.0, 0.99);
  validation_->setSingleStep(0.05);
  validation_->setValue(0.15);
  validation_->setToolTip(tr("Fixed split: the share that validates (the rest tests)"));
  preview_ = new QLabel(this);
  preview_->setWordWrap(true);
  preview_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* form = new QFormLayout;
  form->addRow(tr("Name:"), name_);
  form->addRow(tr("Atlas:"), atlas_);
  form->addRow(tr("Label:"), label_);
  form->addRow(tr("Classes:"), classes_);
  form->addRow(tr("Filters:"), filters_);
  form->addRow(tr("Split:"), split_);
  form->addRow(tr("Folds:"), folds_);
  form->addRow(tr("Train share:"), train_);
  form->addRow(tr("Validation share:"), validation_);
  form->addRow(tr("Seed:"), seed_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  create_ = buttons->addButton(tr("Create"), QDialogButtonBox::AcceptRole);
  create_->setToolTip(tr("Store the corpus in the workspace (as braingraph-cli corpus create)"));
  buttons->button(QDialogButtonBox::Cancel)->setToolTip(tr("Close without creating a corpus"));
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(create_, &QPushButton::clicked, this, [this] {
    if (this->create()) accept();
  });
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(preview_);
  layout->addWidget(buttons);
  // Checked after a pause in typing: a definition reads the whole workspace's phenotypes.
  pause_ = new QTimer(this);
  pause_->setSingleShot(true);
  pause_->setInterval(250);
  connect(pause_, &QTimer::timeout, this, &CorpusDialog::revalidate);
  auto later = [this] { pause_->start(); };
  for (auto* e : {name_, classes_}) connect(e, &QLineEdit::textChanged, this, later);
  for (auto* c : {atlas_, label_}) connect(c, &QComboBox::currentTextChanged, this, later);
  connect(split_, qOverload<int>(&QComboBox::currentIndexChanged), this, later);
  connect(filters_, &QPlainTextEdit::textChanged, this, later);
  for (auto* s : {folds_, seed_}) connect(s, qOverload<int>(&QSpinBox::valueChanged), this, later);
  for (auto* s : {train_, validation_}) connect(s, qOverload<double>(&QDoubleSpinBox::valueChanged), this, later);
  revalidate();
}

CorpusSpec CorpusDialog::spec() const {
  CorpusSpec s;
  s.name = name_->text().trimmed().toStdString();
  const auto atlases = splitList(atlas_->currentText().remove(QLatin1Char(' ')).toStdString(), ',');
  if (!atlases.empty()) s.atlas = atlases.front();
  if (atlases.size() > 1) s.atlases = atlases;
  s.labelField = label_->currentText().trimmed().toStdString();
  for (const auto& c : classes_->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) s.classes.push_back(c.trimmed().toStdString());
  for (const auto& line : filters_->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts))
    if (!line.trimmed().isEmpty()) s.filters.push_back(CorpusFilter::parse(line.trimmed().toStdString()));
  s.split.kind = split_->currentData().toString().toStdString();
  s.split.folds = folds_->value();
  s.split.seed = static_cast<unsigned>(seed_->value());
  s.split.trainFraction = train_->value();
  s.split.validationFraction = validation_->value();
  return s;
}

void CorpusDialog::revalidate() {
  const QString kind = split_->currentData().toString();
  folds_->setEnabled(kind == QLatin1String("kfold"));
  train_->setEnabled(kind == QLatin1String("fixed"));
  validation_->setEnabled(kind == QLatin1String("fixed"));
  QString text;
  bool ok = false;
  try {
    const auto s = spec();
    if (s.name.empty()) throw Error(ErrorCode::Usage, "give the corpus a name");
    auto ws = Workspace::open(workspace_.toStdString());
    const auto existing = listCorpora(*ws);
    if (std::find(existing.begin(), existing.end(), s.name) != existing.end())
      throw Error(ErrorCode::Usage, "the workspace has a corpus named '" + s.name + "' already");
    const auto manifest = buildCorpusManifest(*ws, s);
    std::map<int, int> perClass;
    for (const auto& item : manifest.at("items")) ++perClass[item.value("class_index", -1)];
    QStringList counts;
    const auto& classes = manifest.at("classes");
    for (std::size_t c = 0; c < classes.size(); ++c)
      counts << QStringLiteral("%1 %2").arg(QString::fromStdString(classes[c].get<std::string>())).arg(perClass[static_cast<int>(c)]);
    const auto scans = manifest.at("items").size(), folds = manifest.at("split").at("folds").size();
    text = (scans == 1 ? tr("1 scan: %1").arg(counts.join(QStringLiteral(", "))) : tr("%1 scans: %2").arg(scans).arg(counts.join(QStringLiteral(", ")))) +
           (folds == 1 ? tr(" · 1 fold") : tr(" · %1 folds").arg(folds));
    ok = true;
  } catch (const std::exception& e) {
    text = QString::fromStdString(e.what());
  }
  preview_->setText(text);
  create_->setEnabled(ok);
}

QString CorpusDialog::preview() const { return preview_->text(); }

bool CorpusDialog::create() {
  pause_->stop();
  try {
    const auto s = spec();
    auto ws = Workspace::open(workspace_.toStdString());
    saveCorpus(*ws, buildCorpusManifest(*ws, s), CorpusExisting::Refuse);
    spdlog::info("corpus '{}' created", s.name);
    Q_EMIT created(QString::fromStdString(s.name));
    return true;
  } catch (const std::exception& e) {
    preview_->setText(QString::fromStdString(e.what()));
    create_->setEnabled(false);
    return false;
  }
}

}  // namespace bg::ui
