#pragma once
// What the compute engine (braingraph-cli, which links LibTorch) reports about
// itself. The GUI process never loads LibTorch: Debian's libtorch pulls in
// OpenCV's highgui and with it Qt 5, which must not meet Qt 6 in one process.
// Model work runs in braingraph-cli processes that the GUI starts.
#include <QObject>
#include <QString>

class QProcess;

namespace bg::ui {

class EngineInfo : public QObject {
  Q_OBJECT
 public:
  explicit EngineInfo(QObject* parent = nullptr);
  ~EngineInfo() override;
  // $BRAINGRAPH_CLI, else braingraph-cli beside this executable, else on PATH.
  static QString cliPath();
  // Starts `braingraph-cli info --json` in the background.
  void query();
  bool ready() const { return ready_; }
  QString torchVersion() const { return torchVersion_; }
  QString deviceDescription() const { return device_; }
  QString error() const { return error_; }
  // CUDA devices LibTorch sees (0 without CUDA, or before the answer).
  int cudaDevices() const { return cudaDevices_; }

 Q_SIGNALS:
  void finished();

 private:
  bool ready_ = false;
  QString torchVersion_ = tr("unknown");
  QString device_ = tr("querying…");
  QString error_;
  int cudaDevices_ = 0;
  QProcess* process_ = nullptr;
};

}  // namespace bg::ui
