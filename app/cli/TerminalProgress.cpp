#include "TerminalProgress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace bg::cli {

TerminalProgress::TerminalProgress(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO)) {}

TerminalProgress::~TerminalProgress() { finish(); }

std::string TerminalProgress::formatDuration(double seconds) {
  if (seconds < 0) return "--:--";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

std::string TerminalProgress::renderLine(const JobSnapshot& snap, int width) {
  const int barWidth = std::clamp(width / 3, 10, 40);
  const int filled = static_cast<int>(std::round(snap.fraction * barWidth));
  std::string line = "[" + std::string(static_cast<std::size_t>(filled), '#') + std::string(static_cast<std::size_t>(barWidth - filled), ' ') + "] ";
  char pct[16];
  std::snprintf(pct, sizeof pct, "%3d%% ", static_cast<int>(std::round(snap.fraction * 100)));
  line += pct;
  line += "ETA " + formatDuration(snap.etaSeconds) + " ";
  line += snap.stage.empty() ? snap.name : snap.stage;
  if (static_cast<int>(line.size()) > width - 1) line.resize(static_cast<std::size_t>(std::max(0, width - 1)));
  return line;
}

void TerminalProgress::draw(const JobSnapshot& snap) {
  if (!enabled_) return;
  winsize ws{};
  const int width = (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) ? ws.ws_col : 80;
  const auto line = renderLine(snap, width);
  std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void TerminalProgress::finish() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\r\x1b[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace bg::cli
