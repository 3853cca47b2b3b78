#pragma once
// The report's explanation figures, drawn with QPainter into images at print resolution (no window,
// no OpenGL: they render the same with or without a display): a glass brain (the MNI brain's outline
// in sagittal, coronal and axial projection with the top regions as discs sized by their saliency)
// and a bar chart of each network's share of the saliency.
#include <filesystem>
#include <optional>

#include <QColor>
#include <QImage>
#include <QString>
#include <nlohmann/json.hpp>

namespace bg::report {

// Yeo-7 colours for the Schaefer network names (and a stable colour for any other name).
QColor networkColour(const QString& network);

// explanation: {top_rois: [{name, network, saliency, position_mni: [x,y,z]}], roi_positions_mni: [...]}.
// brainMask: a binary MNI brain mask (NIfTI); without it only the regions are drawn.
QImage renderGlassBrain(const nlohmann::json& explanation, const std::optional<std::filesystem::path>& brainMask, int widthPx, int heightPx,
                        double dpi);

// networks: {name: {saliency[, attention]}}.
QImage renderNetworkBars(const nlohmann::json& networks, int widthPx, int heightPx, double dpi);

}  // namespace bg::report
