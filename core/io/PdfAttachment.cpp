#include "io/PdfAttachment.h"

#include <cctype>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "errors/Error.h"
#include "io/AtomicFile.h"

namespace bg {

namespace {

// A PDF literal string: parentheses and backslashes escaped, ASCII only.
std::string pdfString(const std::string& s) {
  std::string out = "(";
  for (unsigned char c : s) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c >= 32 && c < 127 ? static_cast<char>(c) : '_';
  }
  return out + ")";
}

// The dictionary text of "N 0 obj << ... >>", with nested << >> balanced.
std::string objectDictionary(const std::string& pdf, long number, std::size_t before) {
  // The newest revision of the object is the last one before the cross-reference section.
  const std::string header = std::to_string(number) + " 0 obj";
  std::size_t found = std::string::npos;
  for (auto at = pdf.rfind(header, before); at != std::string::npos; at = at ? pdf.rfind(header, at - 1) : std::string::npos) {
    if (at == 0 || pdf[at - 1] == '\n' || pdf[at - 1] == '\r' || pdf[at - 1] == ' ') {
      auto i = at + header.size();
      while (i < pdf.size() && std::isspace(static_cast<unsigned char>(pdf[i]))) ++i;
      if (pdf.compare(i, 2, "<<") == 0) found = i;
      break;
    }
    if (at == 0) break;
  }
  if (found == std::string::npos) throw Error(ErrorCode::Data, "has no catalog object " + std::to_string(number));
  int depth = 0;
  for (std::size_t i = found; i + 1 < pdf.size(); ++i) {
    if (pdf[i] == '<' && pdf[i + 1] == '<') {
      ++depth;
      ++i;
    } else if (pdf[i] == '>' && pdf[i + 1] == '>') {
      if (--depth == 0) return pdf.substr(found + 2, i - found - 2);
      ++i;
    }
  }
  throw Error(ErrorCode::Data, "has an unterminated catalog dictionary");
}

}  // namespace

std::string withPdfAttachment(const std::string& pdf, const std::string& name, const std::string& mimeType, const std::string& content,
                              const std::string& description) {
  const auto sx = pdf.rfind("startxref");
  if (sx == std::string::npos) throw Error(ErrorCode::Data, "is not a PDF (no startxref)");
  const long prevXref = std::stol(pdf.substr(sx + 9, 32));
  if (prevXref <= 0 || static_cast<std::size_t>(prevXref) >= pdf.size() || pdf.compare(static_cast<std::size_t>(prevXref), 4, "xref") != 0)
    throw Error(ErrorCode::Data, "uses a cross-reference stream, which attaching files does not support");
  const auto tr = pdf.find("trailer", static_cast<std::size_t>(prevXref));
  if (tr == std::string::npos) throw Error(ErrorCode::Data, "has no trailer");
  const std::string trailer = pdf.substr(tr, sx - tr);
  std::smatch m;
  if (!std::regex_search(trailer, m, std::regex("/Size\\s+(\\d+)"))) throw Error(ErrorCode::Data, "has no /Size in its trailer");
  const long size = std::stol(m[1]);
  if (!std::regex_search(trailer, m, std::regex("/Root\\s+(\\d+)\\s+0\\s+R"))) throw Error(ErrorCode::Data, "has no /Root in its trailer");
  const long root = std::stol(m[1]);
  std::string info;
  if (std::regex_search(trailer, m, std::regex("/Info\\s+(\\d+\\s+0\\s+R)"))) info = m[1];

  std::string catalog = objectDictionary(pdf, root, static_cast<std::size_t>(prevXref));
  if (catalog.find("/Names") != std::string::npos) throw Error(ErrorCode::Data, "already has a name dictionary; attaching is not supported");

  const long fileObj = size, specObj = size + 1;
  std::string out = pdf;
  if (out.back() != '\n') out += '\n';
  std::vector<std::pair<long, std::size_t>> offsets;
  offsets.emplace_back(fileObj, out.size());
  std::string subtype;
  for (char c : mimeType) subtype += c == '/' ? std::string("#2F") : std::string(1, c);
  out += fmt::format("{} 0 obj\n<< /Type /EmbeddedFile /Subtype /{} /Length {} /Params << /Size {} >> >>\nstream\n", fileObj, subtype, content.size(),
                     content.size());
  out += content;
  out += "\nendstream\nendobj\n";
  offsets.emplace_back(specObj, out.size());
  out += fmt::format("{} 0 obj\n<< /Type /Filespec /F {} /UF {} /Desc {} /AFRelationship /Data /EF << /F {} 0 R >> >>\nendobj\n", specObj, pdfString(name),
                     pdfString(name), pdfString(description), fileObj);
  offsets.emplace_back(root, out.size());
  out += fmt::format("{} 0 obj\n<<{} /Names << /EmbeddedFiles << /Names [{} {} 0 R] >> >> /PageMode /UseAttachments >>\nendobj\n", root, catalog,
                     pdfString(name), specObj);
  const auto xref = out.size();
  out += "xref\n";
  out += fmt::format("{} 1\n{:010d} 00000 n \n", root, offsets[2].second);
  out += fmt::format("{} 2\n{:010d} 00000 n \n{:010d} 00000 n \n", fileObj, offsets[0].second, offsets[1].second);
  out += fmt::format("trailer\n<< /Size {} /Root {} 0 R{} /Prev {} >>\nstartxref\n{}\n%%EOF\n", size + 2, root, info.empty() ? "" : " /Info " + info, prevXref,
                     xref);
  return out;
}

void attachFileToPdf(const std::filesystem::path& pdf, const std::string& name, const std::string& mimeType, const std::string& content,
                     const std::string& description) {
  withContext("while attaching " + name + " to " + pdf.string(), [&] {
    std::ifstream in(pdf, std::ios::binary);
    if (!in) throw Error(ErrorCode::NoInput, "cannot open the PDF");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    writeTextAtomically(pdf, withPdfAttachment(bytes.str(), name, mimeType, content, description));
  });
}

}  // namespace bg
