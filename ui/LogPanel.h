#pragma once
// The log as the program writes it (spdlog), with a level filter.
#include <memory>
#include <vector>

#include <QWidget>

class QPlainTextEdit;
class QComboBox;

namespace spdlog::sinks {
class sink;
}

namespace bg::ui {

class LogPanel : public QWidget {
  Q_OBJECT
 public:
  explicit LogPanel(QWidget* parent = nullptr);
  ~LogPanel() override;
  QString text() const;
  // Called on the GUI thread by the sink.
  void append(int level, const QString& line);

 private:
  void refilter();
  struct Entry {
    int level;
    QString line;
  };
  std::vector<Entry> entries_;
  QPlainTextEdit* view_;
  QComboBox* filter_;
  std::shared_ptr<spdlog::sinks::sink> sink_;
};

}  // namespace bg::ui
