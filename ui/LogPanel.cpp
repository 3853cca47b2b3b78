#include "LogPanel.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QHBoxLayout>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QVBoxLayout>

#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "log/Logging.h"

namespace bg::ui {
namespace {
constexpr std::size_t kMaxEntries = 5000;

class PanelSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit PanelSink(LogPanel* panel) : panel_(panel) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    QString line = QString::fromUtf8(formatted.data(), static_cast<int>(formatted.size())).trimmed();
    const int level = static_cast<int>(msg.level);
    QPointer<LogPanel> panel = panel_;
    // Any thread may log; the panel is only touched on the GUI thread.
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [panel, level, line] {
          if (panel) panel->append(level, line);
        },
        Qt::QueuedConnection);
  }
  void flush_() override {}

 private:
  QPointer<LogPanel> panel_;
};
}  // namespace

LogPanel::LogPanel(QWidget* parent) : QWidget(parent) {
  view_ = new QPlainTextEdit(this);
  view_->setReadOnly(true);
  view_->setMaximumBlockCount(static_cast<int>(kMaxEntries));
  view_->setToolTip(tr("Messages from every part of the workbench; the full log is also written to a file"));
  filter_ = new QComboBox(this);
  filter_->addItem(tr("Debug and above"), static_cast<int>(spdlog::level::debug));
  filter_->addItem(tr("Info and above"), static_cast<int>(spdlog::level::info));
  filter_->addItem(tr("Warnings and errors"), static_cast<int>(spdlog::level::warn));
  filter_->addItem(tr("Errors only"), static_cast<int>(spdlog::level::err));
  filter_->setCurrentIndex(1);
  filter_->setToolTip(tr("Lowest level of message to show"));
  auto* clear = new QPushButton(tr("Clear"), this);
  clear->setToolTip(tr("Clear the messages shown here (the log file keeps them)"));
  auto* top = new QHBoxLayout;
  top->addWidget(filter_);
  top->addStretch();
  top->addWidget(clear);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(top);
  layout->addWidget(view_);
  connect(filter_, &QComboBox::currentIndexChanged, this, &LogPanel::refilter);
  connect(clear, &QPushButton::clicked, this, [this] {
    entries_.clear();
    view_->clear();
  });

  sink_ = std::make_shared<PanelSink>(this);
  sink_->set_pattern("%H:%M:%S %l: %v");
  sink_->set_level(spdlog::level::debug);
  log::addSink(sink_);
}

LogPanel::~LogPanel() { log::removeSink(sink_); }

QString LogPanel::text() const { return view_->toPlainText(); }

void LogPanel::append(int level, const QString& line) {
  entries_.push_back({level, line});
  if (entries_.size() > kMaxEntries) entries_.erase(entries_.begin(), entries_.begin() + static_cast<long>(entries_.size() - kMaxEntries));
  if (level >= filter_->currentData().toInt()) view_->appendPlainText(line);
}

void LogPanel::refilter() {
  view_->clear();
  const int min = filter_->currentData().toInt();
  for (const auto& e : entries_)
    if (e.level >= min) view_->appendPlainText(e.line);
}

}  // namespace bg::ui
