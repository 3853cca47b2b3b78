#include "ExplanationView.h"

#include <algorithm>

#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QVBoxLayout>

namespace bg::ui {

NetworkBars::NetworkBars(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(160);
  setToolTip(tr("Share of the explanation per atlas network: saliency (gradient x input) and, for BrainGFM, attention rollout"));
}

void NetworkBars::setValues(std::vector<std::pair<QString, std::pair<double, double>>> values, bool hasAttention) {
  values_ = std::move(values);
  std::sort(values_.begin(), values_.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  attention_ = hasAttention;
  update();
}

void NetworkBars::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  if (values_.empty()) {
    p.drawText(rect(), Qt::AlignCenter, tr("No explanation yet"));
    return;
  }
  double top = 1e-12;
  for (const auto& [name, v] : values_) top = std::max({top, v.first, v.second});
  const int labelWidth = 110, rowHeight = std::max(12, std::min(28, (height() - 8) / static_cast<int>(values_.size())));
  const int width = this->width() - labelWidth - 60;
  for (std::size_t i = 0; i < values_.size(); ++i) {
    const int y = 4 + static_cast<int>(i) * rowHeight;
    p.setPen(palette().text().color());
    p.drawText(QRect(4, y, labelWidth - 8, rowHeight), Qt::AlignRight | Qt::AlignVCenter, values_[i].first);
    const int h = attention_ ? rowHeight / 2 - 1 : rowHeight - 3;
    p.fillRect(QRect(labelWidth, y + 1, static_cast<int>(width * values_[i].second.first / top), h), QColor(214, 96, 77));
    if (attention_) p.fillRect(QRect(labelWidth, y + 1 + h + 1, static_cast<int>(width * values_[i].second.second / top), h), QColor(67, 147, 195));
    p.drawText(QRect(labelWidth + width + 4, y, 56, rowHeight), Qt::AlignLeft | Qt::AlignVCenter,
               QString::number(100.0 * values_[i].second.first, 'f', 1) + QStringLiteral("%"));
  }
}

ExplanationView::ExplanationView(QWidget* parent) : QWidget(parent) {
  summary_ = new QLabel(tr("Tools ▸ Predict Selected Scan… runs a trained model on the selected scan and explains it here"), this);
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  bars_ = new NetworkBars(this);
  topRois_ = new QListWidget(this);
  topRois_->setToolTip(tr("The ROIs with the largest saliency for this prediction"));
  topRois_->setAccessibleName(tr("Top ROIs"));
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(summary_);
  layout->addWidget(new QLabel(tr("Per network (red: saliency, blue: attention)"), this));
  layout->addWidget(bars_, 1);
  layout->addWidget(new QLabel(tr("Top ROIs"), this));
  layout->addWidget(topRois_, 1);
}

void ExplanationView::setPrediction(const nlohmann::json& row) {
  row_ = row;
  const auto label = QString::fromStdString(row.value("label", std::string()));
  const auto positive = QString::fromStdString(row.value("positive_class", std::string()));
  summary_->setText(tr("<b>%1</b> — calibrated p(%2) = %3<br><small>%4<br>model: %5</small>")
                        .arg(label.toHtmlEscaped(), positive.toHtmlEscaped())
                        .arg(row.value("probability", 0.0), 0, 'f', 3)
                        .arg(QString::fromStdString(row.value("file", std::string())).toHtmlEscaped(),
                             QString::fromStdString(row.value("model", std::string())).toHtmlEscaped()));
  std::vector<std::pair<QString, std::pair<double, double>>> values;
  bool attention = false;
  if (row.contains("explanation") && row["explanation"].contains("networks"))
    for (const auto& [name, v] : row["explanation"]["networks"].items()) {
      attention = attention || v.contains("attention");
      values.push_back({QString::fromStdString(name), {v.value("saliency", 0.0), v.value("attention", 0.0)}});
    }
  bars_->setValues(values, attention);
  topRois_->clear();
  for (const auto& r : row.value("top_rois", nlohmann::json::array()))
    topRois_->addItem(tr("%1%2 — saliency %3%")
                          .arg(QString::fromStdString(r.value("name", std::string())))
                          .arg(r.contains("network") ? QStringLiteral(" (%1)").arg(QString::fromStdString(r["network"].get<std::string>())) : QString())
                          .arg(100.0 * r.value("saliency", 0.0), 0, 'f', 2));
}

}  // namespace bg::ui
