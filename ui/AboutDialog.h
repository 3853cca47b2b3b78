#pragma once
#include <QDialog>

namespace bg::ui {

class AboutDialog : public QDialog {
  Q_OBJECT
 public:
  AboutDialog(const QString& torchVersion, const QString& device, QWidget* parent = nullptr);
  // "Qt 6.4.2\nVTK 9.1.0\n..." (also what the dialog shows).
  static QString versionText(const QString& torchVersion, const QString& device);
};

}  // namespace bg::ui
