#include "io/Npy.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "io/ByteStream.h"

namespace bg {
namespace {
// The text after "'key':" in a .npy header's dictionary (leading spaces skipped), "" when absent.
std::string npyHeaderValue(const std::string& header, const std::string& key) {
  const auto at = header.find("'" + key + "'");
  if (at == std::string::npos) return {};
  auto p = header.find_first_not_of(" ", at + key.size() + 2);
  if (p == std::string::npos || header[p] != ':') return {};
  p = header.find_first_not_of(" ", p + 1);
  if (p == std::string::npos) return {};
  const auto end = header.find_first_of(",}", header[p] == '(' ? header.find(')', p) : p);
  return header.substr(p, end == std::string::npos ? std::string::npos : end - p);
}

// At most 40 characters, non-printable bytes as '?': header text quoted in a message.
std::string printable(std::string s) {
  if (s.size() > 40) s = s.substr(0, 40) + "...";
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '?';
  return s;
}
}  // namespace

void writeNpyFloat32(const std::filesystem::path& path, const Eigen::MatrixXd& m) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(m.rows()) + ", " + std::to_string(m.cols()) + "), }";
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
  auto in = withContext("while reading " + path.string(), [&] { return openByteStream(path); });
  return readNpyArray(*in, path.string());
}

NpyArray readNpyArray(ByteStream& stream, const std::string& source) {
  return withContext("while reading " + source, [&] {
    ByteStream* in = &stream;
    char magic[10];
    in->readExactly(magic, 10, "the .npy preamble");
    if (std::memcmp(magic, "\x93NUMPY", 6) != 0) throw Error(ErrorCode::Data, "not a NumPy .npy file (bad magic)");
    std::size_t headerLen = static_cast<unsigned char>(magic[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(magic[9])) << 8);
    if (magic[6] >= 2) {
      char more[2];
      in->readExactly(more, 2, "the .npy header length");
      headerLen |=
          (static_cast<std::size_t>(static_cast<unsigned char>(more[0])) << 16) | (static_cast<std::size_t>(static_cast<unsigned char>(more[1])) << 24);
    }
    // NumPy writes headers of a few hundred bytes (version 1 cannot exceed 64 KiB).
    if (headerLen > 1 << 16) throw Error(ErrorCode::Data, ".npy header is implausibly long (" + std::to_string(headerLen) + " bytes)");
    std::string header(headerLen, '\0');
    in->readExactly(header.data(), headerLen, "the .npy header");
    const std::string descr = npyHeaderValue(header, "descr");
    if (descr.size() != 5 || descr.front() != '\'' || descr.back() != '\'' || std::string("<>|=").find(descr[1]) == std::string::npos ||
        std::string("fiu").find(descr[2]) == std::string::npos || descr[3] < '0' || descr[3] > '9')
      throw Error(ErrorCode::Data, "unsupported .npy dtype " + printable(descr));
    const char endian = descr[1], kind = descr[2];
    const int size = descr[3] - '0';
    if (endian == '>') throw Error(ErrorCode::Data, "big-endian .npy arrays are not supported");
    if (npyHeaderValue(header, "fortran_order").rfind("True", 0) == 0) throw Error(ErrorCode::Data, "Fortran-order .npy arrays are not supported");
    const std::string shapeText = npyHeaderValue(header, "shape");
    const auto close = shapeText.find(')');
    if (shapeText.empty() || shapeText.front() != '(' || close == std::string::npos) throw Error(ErrorCode::Data, "no shape in .npy header");
    NpyArray out;
    std::stringstream ss(shapeText.substr(1, close - 1));
    std::string part;
    long count = 1;
    while (std::getline(ss, part, ','))
      if (part.find_first_not_of(" ") != std::string::npos) {
        const auto first = part.find_first_not_of(" "), last = part.find_last_not_of(" ") + 1;
        long n = -1;
        const auto [end, ec] = std::from_chars(part.data() + first, part.data() + last, n);
        if (ec != std::errc() || end != part.data() + last) throw Error(ErrorCode::Data, "the .npy shape has '" + part + "', not a size");
        if (n < 0 || (n > 0 && count > (1L << 31) / n)) throw Error(ErrorCode::Data, "implausible .npy shape");
        out.shape.push_back(n);
        count *= n;
      }
    // Grown as the data arrives: a header that promises more than the file holds fails at the end
    // of the data, not with an allocation of the promised size.
    out.values.reserve(static_cast<std::size_t>(std::min<long>(count, 1L << 20)));
    std::vector<unsigned char> buf(static_cast<std::size_t>(size) * 4096);
    for (long done = 0; done < count;) {
      const long chunk = std::min<long>(4096, count - done);
      in->readExactly(buf.data(), static_cast<std::size_t>(chunk * size), "the .npy data");
      for (long c = 0; c < chunk; ++c) {
        const unsigned char* p = buf.data() + c * size;
        double v = 0;
        if (kind == 'f' && size == 4) {
          float f;
          std::memcpy(&f, p, 4);
          v = f;
        } else if (kind == 'f' && size == 8) {
          std::memcpy(&v, p, 8);
        } else if (kind == 'i' && size == 4) {
          std::int32_t i;
          std::memcpy(&i, p, 4);
          v = i;
        } else if (kind == 'i' && size == 8) {
          std::int64_t i;
          std::memcpy(&i, p, 8);
          v = static_cast<double>(i);
        } else if (kind == 'i' && size == 2) {
          std::int16_t i;
          std::memcpy(&i, p, 2);
          v = i;
        } else
          throw Error(ErrorCode::Data, "unsupported .npy dtype " + std::string(1, kind) + std::to_string(size));
        out.values.push_back(v);
      }
      done += chunk;
    }
    return out;
  });
}

Eigen::MatrixXd readNpy(const std::filesystem::path& path) { return npyMatrix(readNpyArray(path), path.string()); }

Eigen::MatrixXd npyMatrix(const NpyArray& a, const std::string& source) {
  if (a.shape.empty() || a.shape.size() > 2) throw Error(ErrorCode::Data, "while reading " + source + ": only 1D and 2D .npy arrays are supported");
  const long rows = a.shape[0], cols = a.shape.size() == 2 ? a.shape[1] : 1;
  Eigen::MatrixXd out(rows, cols);
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) out(r, c) = a.values[static_cast<std::size_t>(r * cols + c)];
  return out;
}

}  // namespace bg
