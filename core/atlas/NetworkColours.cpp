#include "atlas/NetworkColours.h"

#include <cmath>
#include <cstdint>
#include <utility>

namespace bg {

std::array<unsigned char, 3> networkColour(const std::string& network) {
  static const std::pair<const char*, std::array<unsigned char, 3>> yeo[] = {
      {"Vis", {120, 18, 134}},    {"SomMot", {70, 130, 180}}, {"DorsAttn", {0, 118, 14}}, {"SalVentAttn", {196, 58, 250}},
      {"Limbic", {160, 180, 90}}, {"Cont", {230, 148, 34}},   {"Default", {205, 62, 78}}, {"Subcortical", {110, 110, 110}}};
  if (network.empty()) return {225, 225, 225};
  for (const auto& [name, colour] : yeo)
    if (network.rfind(name, 0) == 0) return colour;
  // FNV-1a of the name picks the hue; saturation and value as the Yeo colours have.
  std::uint32_t h = 2166136261u;
  for (unsigned char c : network) h = (h ^ c) * 16777619u;
  const double hue = static_cast<double>(h % 360) / 60.0, s = 0.6, v = 0.8;
  const double chroma = v * s, x = chroma * (1 - std::abs(std::fmod(hue, 2.0) - 1)), m = v - chroma;
  double r = 0, g = 0, b = 0;
  switch (static_cast<int>(hue)) {
    case 0:
      r = chroma, g = x;
      break;
    case 1:
      r = x, g = chroma;
      break;
    case 2:
      g = chroma, b = x;
      break;
    case 3:
      g = x, b = chroma;
      break;
    case 4:
      r = x, b = chroma;
      break;
    default:
      r = chroma, b = x;
      break;
  }
  auto u = [m](double t) { return static_cast<unsigned char>(std::lround((t + m) * 255)); };
  return {u(r), u(g), u(b)};
}

}  // namespace bg
