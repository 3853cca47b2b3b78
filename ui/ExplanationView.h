#pragma once
// A prediction and why: the label and calibrated probability, per-network saliency (and attention,
// for BrainGFM) as a bar chart, and the ROIs that mattered most.
#include <QWidget>

#include <nlohmann/json.hpp>

class QLabel;
class QListWidget;

namespace bg::ui {

class NetworkBars : public QWidget {
  Q_OBJECT
 public:
  explicit NetworkBars(QWidget* parent = nullptr);
  void setValues(std::vector<std::pair<QString, std::pair<double, double>>> values, bool hasAttention);  // name -> (saliency, attention)
  int bars() const { return static_cast<int>(values_.size()); }

 protected:
  void paintEvent(QPaintEvent*) override;
  QSize sizeHint() const override { return {360, 220}; }

 private:
  std::vector<std::pair<QString, std::pair<double, double>>> values_;
  bool attention_ = false;
};

class ExplanationView : public QWidget {
  Q_OBJECT
 public:
  explicit ExplanationView(QWidget* parent = nullptr);
  // One row of `braingraph-cli predict --json --explain`.
  void setPrediction(const nlohmann::json& row);
  QLabel* summary() const { return summary_; }
  QListWidget* topRois() const { return topRois_; }
  NetworkBars* networkBars() const { return bars_; }
  const nlohmann::json& prediction() const { return row_; }

 private:
  QLabel* summary_;
  NetworkBars* bars_;
  QListWidget* topRois_;
  nlohmann::json row_;
};

}  // namespace bg::ui
