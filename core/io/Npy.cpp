#include "io/Npy.h"

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

Eigen::MatrixXd readNpy(const std::filesystem::path& path) {
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
    std::vector<long> shape;
    std::stringstream ss(m[1].str());
    std::string part;
    while (std::getline(ss, part, ','))
      if (part.find_first_not_of(" ") != std::string::npos) shape.push_back(std::stol(part));
    if (shape.empty() || shape.size() > 2) throw Error(ErrorCode::Data, "only 1D and 2D .npy arrays are supported");
    const long rows = shape[0], cols = shape.size() == 2 ? shape[1] : 1;
    if (rows < 0 || cols < 0 || rows * cols > (1L << 31)) throw Error(ErrorCode::Data, "implausible .npy shape");
    Eigen::MatrixXd out(rows, cols);
    std::vector<unsigned char> buf(static_cast<std::size_t>(cols * size));
    for (long r = 0; r < rows; ++r) {
      in->readExactly(buf.data(), buf.size(), "the .npy data");
      for (long c = 0; c < cols; ++c) {
        const unsigned char* p = buf.data() + c * size;
        double v = 0;
        if (kind == 'f' && size == 4) { float f; std::memcpy(&f, p, 4); v = f; }
        else if (kind == 'f' && size == 8) { std::memcpy(&v, p, 8); }
        else if (kind == 'i' && size == 4) { std::int32_t i; std::memcpy(&i, p, 4); v = i; }
        else if (kind == 'i' && size == 8) { std::int64_t i; std::memcpy(&i, p, 8); v = static_cast<double>(i); }
        else if (kind == 'i' && size == 2) { std::int16_t i; std::memcpy(&i, p, 2); v = i; }
        else throw Error(ErrorCode::Data, "unsupported .npy dtype " + std::string(1, kind) + std::to_string(size));
        out(r, c) = v;
      }
    }
    return out;
  });
}

}  // namespace bg
