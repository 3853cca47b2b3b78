// Finds and loads libbraingraph-model.so (no torch header here).
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "model/ModelBackend.h"

#ifndef BRAINGRAPH_MODEL_LIBRARY_BUILD
#define BRAINGRAPH_MODEL_LIBRARY_BUILD ""
#endif
#ifndef BRAINGRAPH_MODEL_LIBRARY_INSTALL
#define BRAINGRAPH_MODEL_LIBRARY_INSTALL "lib/braingraph/libbraingraph-model.so"
#endif

namespace bg::model {
namespace {

std::unique_ptr<ModelBackend> load() {
  std::vector<std::filesystem::path> candidates;
  if (const char* env = std::getenv("BRAINGRAPH_MODEL_LIBRARY"); env && *env) candidates.emplace_back(env);
  std::error_code ec;
  const auto exeDir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  if (!ec) candidates.push_back((exeDir / ".." / BRAINGRAPH_MODEL_LIBRARY_INSTALL).lexically_normal());
  if (*BRAINGRAPH_MODEL_LIBRARY_BUILD) candidates.emplace_back(BRAINGRAPH_MODEL_LIBRARY_BUILD);
  std::string tried;
  for (const auto& path : candidates) {
    if (!std::filesystem::exists(path)) {
      tried += "\n  " + path.string() + " (absent)";
      continue;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      tried += "\n  " + path.string() + " (" + dlerror() + ")";
      continue;
    }
    using Factory = ModelBackend* (*)();
    auto factory = reinterpret_cast<Factory>(dlsym(handle, "braingraph_create_model_backend"));
    if (!factory) {
      tried += "\n  " + path.string() + " (no braingraph_create_model_backend)";
      continue;
    }
    spdlog::debug("model library {}", path.string());
    return std::unique_ptr<ModelBackend>(factory());  // the library stays loaded for the process
  }
  throw Error(ErrorCode::Config,
              "the model library libbraingraph-model.so could not be loaded; looked at:" + tried + "\n(set BRAINGRAPH_MODEL_LIBRARY to its path)");
}

}  // namespace

const ModelBackend& modelBackend() {
  static std::once_flag once;
  static std::unique_ptr<ModelBackend> backend;
  static std::exception_ptr failure;
  std::call_once(once, [] {
    try {
      backend = load();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  if (failure) std::rethrow_exception(failure);
  return *backend;
}

}  // namespace bg::model
