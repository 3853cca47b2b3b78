#pragma once
// One colour per network in every view (3D, matrix bands, slice overlay, report figures): the Yeo-7
// colours of the Schaefer files for their networks (grey for subcortical/cerebellum), and for any
// other network name a stable hue derived from the name, so a network looks the same everywhere.
#include <array>
#include <string>

namespace bg {

std::array<unsigned char, 3> networkColour(const std::string& network);

}  // namespace bg
