#pragma once
// An output folder filled all at once: files are written into a hidden staging folder inside it
// (".staging-PID") and moved into place only by commit(), so a failed or killed command leaves the
// folder as it was (the staging folder of a killed process is removed by the next one).
#include <filesystem>
#include <string>
#include <vector>

namespace bg {

class StagedOutput {
 public:
  explicit StagedOutput(const std::filesystem::path& outDir);
  ~StagedOutput();  // without commit(): removes the staging folder, and the output folder if it created it empty
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;

  // Where to write `name` now.
  std::filesystem::path path(const std::string& name) const { return staging_ / name; }
  // Moves every staged file into the output folder (replacing files of the same name); returns their paths.
  std::vector<std::filesystem::path> commit();

 private:
  std::filesystem::path outDir_, staging_;
  bool createdOutDir_ = false, committed_ = false;
};

}  // namespace bg
