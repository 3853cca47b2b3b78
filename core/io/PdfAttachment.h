#pragma once
// Embeds a file in an existing PDF as a document-level attachment (the catalog's EmbeddedFiles name
// tree), by an incremental update: the original bytes stay as they are and new objects, a new catalog
// revision and a cross-reference section are appended. Qt 6.4's QPdfWriter cannot attach files
// itself. Works for PDFs with a classic cross-reference table (what QPdfWriter writes); anything else
// is refused with a clear error rather than risking a broken file.
#include <filesystem>
#include <string>

namespace bg {

// Rewrites `pdf` in place (through a temporary file and a rename).
void attachFileToPdf(const std::filesystem::path& pdf, const std::string& name, const std::string& mimeType, const std::string& content,
                     const std::string& description);

// The same on bytes (for tests and callers that keep the PDF in memory).
std::string withPdfAttachment(const std::string& pdfBytes, const std::string& name, const std::string& mimeType, const std::string& content,
                              const std::string& description);

}  // namespace bg
