// libFuzzer target for the PyTorch checkpoint reader: zip directory, pickle interpreter, storages,
// strides and dtypes. Every input must either parse or be refused with bg::Error.
#include <cstdint>

#include "errors/Error.h"
#include "io/TorchCheckpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto dict = bg::parseTorchStateDict(data, size, "fuzz-input");
    for (const auto& [key, tensor] : dict.tensors) (void)tensor.toFloat();
  } catch (const bg::Error&) {
    // Refused with a message: what the reader must do with bad input.
  }
  return 0;
}
