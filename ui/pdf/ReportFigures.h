#pragma once
// The report's explanation figures, painted with QPainter (no window, no OpenGL: they render the same
// with or without a display): a glass brain (the MNI brain's outline in sagittal, coronal and axial
// projection with the top regions as discs sized by their saliency, numbered by rank, and a key beside
// it) and a bar chart of each network's share of the saliency. Painted on a PDF writer they are vector
// paths; render*() draws them into images for the wizard.
#include <filesystem>
#include <optional>

#include <vector>

#include <QColor>
#include <QImage>
#include <QPainter>
#include <QRectF>
#include <QString>
#include <nlohmann/json.hpp>

namespace bg::report {

// Yeo-7 colours for the Schaefer network names (and a stable colour for any other name).
QColor networkColour(const QString& network);

// Where the glass brain put things (for tests: rank labels must overlap nothing).
struct GlassBrainLayout {
  struct Centre {
    int rank0;  // index into top_rois
    int view;   // 0 sagittal, 1 coronal, 2 axial
    QPointF at;
  };
  struct Sides {
    QString left, right;
    int view;
  };
  std::vector<QRectF> labels, discs;
  std::vector<Centre> centres;
  std::vector<Sides> sideLabels;
};

// Whether a report record asks for radiological figures (record.figures.convention).
bool radiologicalFigures(const nlohmann::json& record);

// explanation: {top_rois: [{name, network, saliency, position_mni: [x,y,z]}], roi_positions_mni: [...]}.
// brainMask: a binary MNI brain mask (NIfTI); without it only the regions are drawn. radiological:
// the patient's left on the right of the coronal and axial views (each view's edges say L and R).
void paintGlassBrain(QPainter& painter, const QRectF& target, const nlohmann::json& explanation, const std::optional<std::filesystem::path>& brainMask,
                     double dpi, bool radiological, GlassBrainLayout* layout = nullptr);
QImage renderGlassBrain(const nlohmann::json& explanation, const std::optional<std::filesystem::path>& brainMask, int widthPx, int heightPx, double dpi,
                        bool radiological = false);

// networks: {name: {saliency[, attention]}}.
void paintNetworkBars(QPainter& painter, const QRectF& target, const nlohmann::json& networks, double dpi);
QImage renderNetworkBars(const nlohmann::json& networks, int widthPx, int heightPx, double dpi);

}  // namespace bg::report
