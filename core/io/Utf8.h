#pragma once
// Text from outside (phenotype tables, file names) is checked for UTF-8 where it comes in, so that
// nothing stored in the workspace fails later in a JSON writer or a report.
#include <optional>
#include <string>
#include <string_view>

namespace bg {

// The byte offset of the first byte that does not start or continue a valid UTF-8 sequence
// (overlong forms, surrogates and code points above U+10FFFF are invalid), or nothing.
std::optional<std::size_t> firstInvalidUtf8(std::string_view text);

// "line L, byte B (column C of the line)" for a byte offset in a text, counting from 1.
std::string describeTextPosition(std::string_view text, std::size_t offset);

}  // namespace bg
