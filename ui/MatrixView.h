#pragma once
// A connectivity matrix as a heatmap: ROIs ordered by network with coloured network bands, a
// diverging colour map symmetric around 0 (blue negative, white 0, red positive) and its colour bar.
// Hovering names the two ROIs and the value (and, for a group test, p and FDR q; cells that are not
// significant are faded); the mouse wheel zooms around the cursor, dragging pans, Home (or
// double-click) resets. Keyboard: +/- zoom, arrows pan.
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <QImage>
#include <QWidget>

namespace bg::ui {

class MatrixView : public QWidget {
  Q_OBJECT
 public:
  explicit MatrixView(QWidget* parent = nullptr);

  // names / networks may be empty. `limit` <= 0: the largest |off-diagonal| value.
  void setMatrix(const Eigen::MatrixXd& m, std::vector<std::string> names, std::vector<std::string> networks, const QString& title, double limit = 0);
  void clear(const QString& message);
  // For a statistic map: p and FDR q per cell; cells with q >= alpha are drawn faded.
  void setSignificance(const Eigen::MatrixXd& p, const Eigen::MatrixXd& q, double alpha);
  bool showsSignificance() const { return q_.size() > 0; }
  // The hover text for a widget position (empty off the matrix).
  QString describeAt(const QPoint& p) const;
  // The network of each display row, top to bottom (empty when the matrix has no networks).
  std::vector<std::string> rowNetworks() const;
  const Eigen::MatrixXd& matrix() const { return matrix_; }
  double colourLimit() const { return limit_; }

  struct Cell {
    int row, column;  // indices into the original (unordered) matrix
    double value;
  };
  // The matrix cell under a widget position, if any.
  std::optional<Cell> cellAt(const QPoint& p) const;
  // Where a matrix cell is drawn (its centre), for tests and tooltips.
  QPoint cellCentre(int row, int column) const;
  // Diverging map: -limit blue, 0 white, +limit red.
  static QRgb colourFor(double value, double limit);

 Q_SIGNALS:
  void cellHovered(int row, int column, double value);
  void hovered(const QString& text);

 protected:
  bool event(QEvent* e) override;
  void paintEvent(QPaintEvent*) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseDoubleClickEvent(QMouseEvent*) override;
  void wheelEvent(QWheelEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;
  void resizeEvent(QResizeEvent*) override;

 private:
  QRectF matrixRect() const;  // the whole (zoomed) matrix in widget coordinates
  QRect plotArea() const;     // the visible square
  void rebuildImage();
  void zoomAt(QPointF at, double factor);

  Eigen::MatrixXd matrix_;
  std::vector<std::string> names_, networks_;
  std::vector<int> order_;  // display position -> matrix index
  Eigen::MatrixXd p_, q_;
  double alpha_ = 0.05;
  QString help_;
  QImage image_;
  QString title_, message_;
  double limit_ = 1.0;
  double zoom_ = 1.0;
  QPointF offset_;  // pan, in widget pixels
  QPoint dragStart_;
  QPointF dragOffset_;
};

}  // namespace bg::ui
