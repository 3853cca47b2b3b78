#include "io/Npy.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "io/ByteStream.h"

namespace bg {

void writeNpyFloat32(const std::filesystem::path& path, const Eigen::MatrixXd& m) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(m.rows()) + ", " +
                       std::to_string(m.cols()) + "), }";
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  writeFileAtomically(path, [&](std::ostream& out) {
    out.write("\x93NUMPY\x01\x00", 8);
    const auto len = static_cast<std::uint16_t>(header.size());
    const char lenBytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
    out.write(lenBytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    std::vector<float> row(static_cast<std::size_t>(m.cols()));
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      for (Eigen::Index c = 0; c < m.cols(); ++c) row[static_cast<std::size_t>(c)] = static_cast<float>(m(r, c));
      out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size() * sizeof(float)));
    }
  });
}

NpyArray readNpyArray(const std::filesystem::path& path) {
  return withContext("while reading " + path.string(), [&] {
    auto in = openByteStream(path);
    char magic[10];
    in->readExactly(magic, 10, "the .npy preamble");
    if (std::memcmp(magic, "\x93NUMPY", 6) != 0) throw Error(ErrorCode::Data, "not a NumPy .npy file (bad magic)");
    std::size_t headerLen = static_cast<unsigned char>(magic[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(magic[9])) << 8);
    if (magic[6] >= 2) {
      char more[2];
      in->readExactly(more, 2, "the .npy header length");
      headerLen |= (static_cast<std::size_t>(static_cast<unsigned char>(more[0])) << 16) |
                   (static_cast<std::size_t>(static_cast<unsigned char>(more[1])) << 24);
    }
    if (headerLen > 1 << 20) throw Error(ErrorCode::Data, ".npy header is implausibly long");
    std::string header(headerLen, '\0');
    in->readExactly(header.data(), headerLen, "the .npy header");
    std::smatch m;
    if (!std::regex_search(header, m, std::regex("'descr':\\s*'([<>|=])([fiu])(\\d)'")))
      throw Error(ErrorCode::Data, "unsupported .npy dtype in header: " + header);
    const char endian = m[1].str()[0], kind = m[2].str()[0];
    const int size = std::stoi(m[3].str());
    if (endian == '>') throw Error(ErrorCode::Data, "big-endian .npy arrays are not supported");
    if (std::regex_search(header, std::regex("'fortran_order':\\s*True"))) throw Error(ErrorCode::Data, "Fortran-order .npy arrays are not supported");
    if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) throw Error(ErrorCode::Data, "no shape in .npy header");
    NpyArray out;
    std::stringstream ss(m[1].str());
    std::string part;
    long count = 1;
    while (std::getline(ss, part, ','))
      if (part.find_first_not_of(" ") != std::string::npos) {
        const long n = std::stol(part);
        if (n < 0 || (n > 0 && count > (1L << 31) / n)) throw Error(ErrorCode::Data, "implausible .npy shape");
        out.shape.push_back(n);
        count *= n;
      }
    out.values.resize(static_cast<std::size_t>(count));
    std::vector<unsigned char> buf(static_cast<std::size_t>(size) * 4096);
    for (long done = 0; done < count;) {
      const long chunk = std::min<long>(4096, count - done);
      in->readExactly(buf.data(), static_cast<std::size_t>(chunk * size), "the .npy data");
      for (long c = 0; c < chunk; ++c) {
        const unsigned char* p = buf.data() + c * size;
        double v = 0;
        if (kind == 'f' && size == 4) { float f; std::memcpy(&f, p, 4); v = f; }
        else if (kind == 'f' && size == 8) { std::memcpy(&v, p, 8); }
        else if (kind == 'i' && size == 4) { std::int32_t i; std::memcpy(&i, p, 4); v = i; }
        else if (kind == 'i' && size == 8) { std::int64_t i; std::memcpy(&i, p, 8); v = static_cast<double>(i); }
        else if (kind == 'i' && size == 2) { std::int16_t i; std::memcpy(&i, p, 2); v = i; }
        else throw Error(ErrorCode::Data, "unsupported .npy dtype " + std::string(1, kind) + std::to_string(size));
        out.values[static_cast<std::size_t>(done + c)] = v;
      }
      done += chunk;
    }
    return out;
  });
}

Eigen::MatrixXd readNpy(const std::filesystem::path& path) {
  const auto a = readNpyArray(path);
  if (a.shape.empty() || a.shape.size() > 2)
    throw Error(ErrorCode::Data, "while reading " + path.string() + ": only 1D and 2D .npy arrays are supported");
  const long rows = a.shape[0], cols = a.shape.size() == 2 ? a.shape[1] : 1;
  Eigen::MatrixXd out(rows, cols);
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) out(r, c) = a.values[static_cast<std::size_t>(r * cols + c)];
  return out;
}

}  // namespace bg
