#pragma once
// Content hashes (XXH3, 128 bit, hex): scans are identified by their bytes, arrays by their values.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace bg {

std::string hashBytes(const void* data, std::size_t size);
// Hash of the concatenation of two buffers.
std::string hashBytes(const void* a, std::size_t aSize, const void* b, std::size_t bSize);
// Streams the file; throws bg::Error naming it when it cannot be read.
std::string hashFile(const std::filesystem::path& path);
std::uint64_t checksum64(const void* data, std::size_t size);

}  // namespace bg
