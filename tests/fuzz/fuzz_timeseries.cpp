// libFuzzer target for the ROI time-series reader: the first byte picks the format (.1D, .csv, .tsv,
// .npy; each plain or gzip, detected from the bytes), the rest is the file.
#include <cstdint>

#include "errors/Error.h"
#include "io/ByteStream.h"
#include "io/TimeSeriesFile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const char* const kNames[] = {"fuzz.1D", "fuzz.csv", "fuzz.tsv", "fuzz.npy"};
  const char* name = kNames[data[0] % 4];
  try {
    auto in = bg::openMemoryStream(data + 1, size - 1);
    const auto ts = bg::readRoiTimeSeries(*in, name);
    // What every caller relies on: one name per column, finite values.
    if (static_cast<long>(ts.roiNames.size()) != ts.series.cols()) __builtin_trap();
    if (ts.series.size() > 0 && !ts.series.allFinite()) __builtin_trap();
  } catch (const bg::Error&) {
    // Rejected with a message: what the reader must do with bad input.
  }
  return 0;
}
