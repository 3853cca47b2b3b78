// libFuzzer target for the NIfTI reader: header parsing, gzip inflation, volume conversion.
#include <cstdint>
#include <vector>

#include "errors/Error.h"
#include "io/ByteStream.h"
#include "io/NiftiImage.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    bg::NiftiReader reader(bg::openMemoryStream(data, size), "fuzz-input");
    const auto voxels = reader.header().voxelsPerVolume();
    if (voxels > (1 << 24)) return 0;  // valid but too big to be worth a fuzzing iteration
    std::vector<float> volume(static_cast<std::size_t>(voxels));
    for (int t = 0; t < 4 && reader.readVolume(volume.data()); ++t) {
    }
  } catch (const bg::Error&) {
    // Rejected with a message: what the reader must do with bad input.
  }
  return 0;
}
