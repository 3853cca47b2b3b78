#include "platform/Versions.h"

#include <Eigen/Core>
#include <itkVersion.h>
#include <nifti/nifti2_io.h>
#include <spdlog/version.h>
#include <sqlite3.h>

#ifndef BRAINGRAPH_VERSION
#define BRAINGRAPH_VERSION "0.0.0"
#endif

namespace bg {

std::string braingraphVersion() { return BRAINGRAPH_VERSION; }

std::vector<std::pair<std::string, std::string>> coreLibraryVersions() {
  auto v3 = [](int a, int b, int c) { return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c); };
  return {
      {"ITK", itk::Version::GetITKVersion()},
      {"Eigen", v3(EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION)},
      {"spdlog", v3(SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH)},
      {"nifti_clib", "3.0"},
      {"SQLite", sqlite3_libversion()},
  };
}

}  // namespace bg
