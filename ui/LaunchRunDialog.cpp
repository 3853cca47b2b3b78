#include "LaunchRunDialog.h"

#include <fstream>

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <spdlog/spdlog.h>

#include "settings/DataPaths.h"
#include "workspace/Corpus.h"
#include "workspace/Workspace.h"

namespace bg::ui {
using nlohmann::json;

namespace {
// Methods that adapt a pre-trained encoder (the others train from scratch or are baselines).
bool needsPretrained(const QString& m) {
  return m == QLatin1String("finetune") || m == QLatin1String("prompt") || m == QLatin1String("lora") || m == QLatin1String("prefix") ||
         m == QLatin1String("linear");
}
}  // namespace

LaunchRunDialog::LaunchRunDialog(const QString& workspaceDir, QWidget* parent) : QDialog(parent), workspace_(workspaceDir) {
  setWindowTitle(tr("Launch a Run"));
  kind_ = new QComboBox(this);
  kind_->addItems({QStringLiteral("pretrain"), QStringLiteral("train"), QStringLiteral("evaluate")});
  kind_->setToolTip(tr("Pre-train BrainGFM, train a model on a whole corpus, or cross-validate a method"));
  corpus_ = new QComboBox(this);
  corpus_->setToolTip(tr("The corpus (labels and split) the run uses"));
  try {
    auto ws = Workspace::open(workspace_.toStdString());
    for (const auto& c : listCorpora(*ws)) corpus_->addItem(QString::fromStdString(c));
  } catch (const std::exception& e) {
    spdlog::warn("launch: no corpora: {}", e.what());
  }
  method_ = new QComboBox(this);
  method_->addItems({QStringLiteral("prompt"), QStringLiteral("finetune"), QStringLiteral("lora"), QStringLiteral("prefix"),
                     QStringLiteral("linear"), QStringLiteral("scratch"), QStringLiteral("logreg")});
  method_->setToolTip(tr("How the model adapts (train, evaluate)"));
  pretrained_ = new QLineEdit(this);
  pretrained_->setToolTip(tr("Pre-trained encoder (a pretrain run's output); needed by finetune, prompt, LoRA, prefix and linear"));
  config_ = new QComboBox(this);
  config_->setToolTip(tr("Configuration: the paper's settings, or one of the shipped presets"));
  config_->addItem(tr("paper defaults"), QString());
  for (const auto& f : QDir(QString::fromStdString(DataPaths::resourceDir().string()) + QStringLiteral("/configs"))
                           .entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Name))
    config_->addItem(f.fileName(), f.absoluteFilePath());
  epochs_ = new QSpinBox(this);
  epochs_->setRange(0, 10000);
  epochs_->setSpecialValueText(tr("from the configuration"));
  epochs_->setToolTip(tr("Override the configuration's epochs"));
  folds_ = new QSpinBox(this);
  folds_->setRange(0, 50);
  folds_->setSpecialValueText(tr("the corpus's split"));
  folds_->setToolTip(tr("evaluate: stratified k-fold cross-validation (0 = the corpus's own split)"));
  device_ = new QComboBox(this);
  device_->addItems({QStringLiteral("auto"), QStringLiteral("cpu"), QStringLiteral("cuda")});
  device_->setToolTip(tr("Compute device (auto: CUDA when present, else CPU)"));
  threads_ = new QSpinBox(this);
  threads_->setRange(0, 256);
  threads_->setSpecialValueText(tr("all cores"));
  threads_->setToolTip(tr("CPU threads"));
  output_ = new QLineEdit(this);
  output_->setToolTip(tr("Model file to write (pretrain, train) or the prefix of result tables (evaluate, optional)"));
  problems_ = new QLabel(this);
  problems_->setStyleSheet(QStringLiteral("color: #cf222e"));
  problems_->setWordWrap(true);
  auto* form = new QFormLayout;
  form->addRow(tr("Run:"), kind_);
  form->addRow(tr("Corpus:"), corpus_);
  form->addRow(tr("Method:"), method_);
  form->addRow(tr("Pre-trained:"), pretrained_);
  form->addRow(tr("Configuration:"), config_);
  form->addRow(tr("Epochs:"), epochs_);
  form->addRow(tr("Folds:"), folds_);
  form->addRow(tr("Device:"), device_);
  form->addRow(tr("Threads:"), threads_);
  form->addRow(tr("Output:"), output_);
  auto* save = new QPushButton(tr("Save Preset…"), this);
  save->setToolTip(tr("Save this form as a JSON preset"));
  auto* load = new QPushButton(tr("Load Preset…"), this);
  load->setToolTip(tr("Fill the form from a JSON preset"));
  launch_ = new QPushButton(tr("Launch"), this);
  launch_->setToolTip(tr("Start the run in its own process; follow it in the Runs dock"));
  launch_->setDefault(true);
  auto* cancel = new QPushButton(tr("Close"), this);
  cancel->setToolTip(tr("Close without launching"));
  connect(save, &QPushButton::clicked, this, [this] {
    const auto f = QFileDialog::getSaveFileName(this, tr("Save preset"), QString(), tr("Presets (*.json)"));
    if (!f.isEmpty()) savePreset(f);
  });
  connect(load, &QPushButton::clicked, this, [this] {
    const auto f = QFileDialog::getOpenFileName(this, tr("Load preset"), QString(), tr("Presets (*.json)"));
    if (!f.isEmpty()) loadPreset(f);
  });
  connect(launch_, &QPushButton::clicked, this, [this] {
    if (!problems().isEmpty()) return;
    Q_EMIT launchRequested(arguments());
    accept();
  });
  connect(cancel, &QPushButton::clicked, this, &QDialog::reject);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(save);
  buttons->addWidget(load);
  buttons->addStretch(1);
  buttons->addWidget(cancel);
  buttons->addWidget(launch_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(problems_);
  layout->addLayout(buttons);
  for (auto* c : {kind_, corpus_, method_, config_, device_}) connect(c, &QComboBox::currentIndexChanged, this, &LaunchRunDialog::revalidate);
  for (auto* e : {pretrained_, output_}) connect(e, &QLineEdit::textChanged, this, &LaunchRunDialog::revalidate);
  for (auto* s : {epochs_, folds_, threads_}) connect(s, &QSpinBox::valueChanged, this, &LaunchRunDialog::revalidate);
  revalidate();
}

QStringList LaunchRunDialog::problems() const {
  QStringList p;
  const QString kind = kind_->currentText(), method = method_->currentText();
  if (corpus_->currentText().isEmpty()) p << tr("The workspace has no corpus: create one first (corpus create).");
  if (kind != QLatin1String("evaluate") && output_->text().trimmed().isEmpty()) p << tr("Choose the model file to write (Output).");
  if (kind == QLatin1String("train") && needsPretrained(method) && pretrained_->text().trimmed().isEmpty())
    p << tr("%1 adapts a pre-trained encoder: give the Pre-trained file.").arg(method);
  if (!pretrained_->text().trimmed().isEmpty() && !QFileInfo::exists(pretrained_->text().trimmed()))
    p << tr("The pre-trained file %1 does not exist.").arg(pretrained_->text().trimmed());
  if (kind == QLatin1String("evaluate") && folds_->value() == 1) p << tr("Cross-validation needs at least 2 folds.");
  return p;
}

QStringList LaunchRunDialog::arguments() const {
  const QString kind = kind_->currentText(), method = method_->currentText();
  QStringList a;
  if (device_->currentText() != QLatin1String("auto")) a << QStringLiteral("--device") << device_->currentText();
  if (threads_->value() > 0) a << QStringLiteral("--threads") << QString::number(threads_->value());
  a << kind << QStringLiteral("-w") << workspace_ << QStringLiteral("--corpus") << corpus_->currentText();
  if (kind != QLatin1String("pretrain")) a << QStringLiteral("--method") << method;
  if (kind != QLatin1String("pretrain") && !pretrained_->text().trimmed().isEmpty()) a << QStringLiteral("--pretrained") << pretrained_->text().trimmed();
  if (!config_->currentData().toString().isEmpty()) a << QStringLiteral("--config") << config_->currentData().toString();
  if (epochs_->value() > 0 && method != QLatin1String("logreg")) a << QStringLiteral("--epochs") << QString::number(epochs_->value());
  if (kind == QLatin1String("evaluate") && folds_->value() > 1) a << QStringLiteral("--cv") << QString::number(folds_->value());
  if (!output_->text().trimmed().isEmpty()) a << QStringLiteral("--out") << output_->text().trimmed();
  return a;
}

json LaunchRunDialog::preset() const {
  return {{"kind", kind_->currentText().toStdString()},     {"corpus", corpus_->currentText().toStdString()},
          {"method", method_->currentText().toStdString()}, {"pretrained", pretrained_->text().toStdString()},
          {"config", config_->currentText().toStdString()}, {"epochs", epochs_->value()},
          {"folds", folds_->value()},                       {"device", device_->currentText().toStdString()},
          {"threads", threads_->value()},                   {"output", output_->text().toStdString()}};
}

void LaunchRunDialog::applyPreset(const json& p) {
  auto select = [](QComboBox* box, const json& j, const char* key) {
    if (!j.contains(key)) return;
    const int i = box->findText(QString::fromStdString(j[key].get<std::string>()));
    if (i >= 0) box->setCurrentIndex(i);
  };
  select(kind_, p, "kind");
  select(corpus_, p, "corpus");
  select(method_, p, "method");
  select(config_, p, "config");
  select(device_, p, "device");
  pretrained_->setText(QString::fromStdString(p.value("pretrained", std::string())));
  output_->setText(QString::fromStdString(p.value("output", std::string())));
  epochs_->setValue(p.value("epochs", 0));
  folds_->setValue(p.value("folds", 0));
  threads_->setValue(p.value("threads", 0));
}

bool LaunchRunDialog::savePreset(const QString& file) const {
  std::ofstream out(file.toStdString());
  out << preset().dump(2) << "\n";
  return static_cast<bool>(out);
}

bool LaunchRunDialog::loadPreset(const QString& file) {
  std::ifstream in(file.toStdString());
  try {
    applyPreset(json::parse(in));
    return true;
  } catch (const std::exception& e) {
    problems_->setText(tr("%1 is not a preset: %2").arg(file, QString::fromStdString(e.what())));
    return false;
  }
}

void LaunchRunDialog::revalidate() {
  const bool pretrain = kind_->currentText() == QLatin1String("pretrain");
  method_->setEnabled(!pretrain);
  pretrained_->setEnabled(!pretrain);
  folds_->setEnabled(kind_->currentText() == QLatin1String("evaluate"));
  const auto p = problems();
  problems_->setText(p.join(QStringLiteral("\n")));
  launch_->setEnabled(p.isEmpty());
}

}  // namespace bg::ui
