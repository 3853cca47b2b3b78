// bench_connectome [BOLD.nii.gz]
// Times braingraph-cli connectome (schaefer200, then all eight atlases, --no-clean) against
// `zcat FILE > /dev/null` on a 91x109x91x200 float32 BOLD on the MNI 2 mm grid, which it
// generates (streaming, ~160 MB) when absent. Prints one `name: value` per line.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <nifti/nifti2_io.h>
#include <zlib.h>

#include "atlas/AtlasRegistry.h"
#include "io/NiftiImage.h"
#include "settings/DataPaths.h"
#include "settings/Settings.h"

namespace {

// Writes the benchmark scan volume by volume through zlib, so generating it needs little memory.
void generate(const std::filesystem::path& out, const bg::AtlasRegistry& registry) {
  const auto mask = bg::readNiftiVolume(registry.resolve(registry.get("mni152").files.at("brain_mask_2mm")));
  const auto labels = bg::readNiftiVolume(registry.volumeFile("schaefer200"));
  const int T = 200;
  const double tr = 2.0;
  int64_t dims[8] = {4, 91, 109, 91, T, 1, 1, 1};
  nifti_image* nim = nifti_make_new_nim(dims, NIFTI_TYPE_FLOAT32, 0);
  nim->dx = nim->dy = nim->dz = 2.0;
  nim->pixdim[1] = nim->pixdim[2] = nim->pixdim[3] = 2.0;
  nim->dt = nim->pixdim[4] = tr;
  nim->xyz_units = NIFTI_UNITS_MM;
  nim->time_units = NIFTI_UNITS_SEC;
  nim->sform_code = nim->qform_code = NIFTI_XFORM_MNI_152;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) nim->sto_xyz.m[r][c] = mask.header.voxelToWorld(r, c);
  nifti_dmat44_to_quatern(nim->sto_xyz, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x, &nim->qoffset_y, &nim->qoffset_z, nullptr, nullptr,
                          nullptr, &nim->qfac);
  nifti_1_header hdr;
  nifti_convert_nim2n1hdr(nim, &hdr);
  hdr.vox_offset = 352;
  std::memcpy(hdr.magic, "n+1", 4);
  nifti_image_free(nim);

  const auto tmp = out.string() + ".part";
  gzFile gz = gzopen(tmp.c_str(), "wb6");
  gzwrite(gz, &hdr, sizeof hdr);
  const char ext[4] = {0, 0, 0, 0};
  gzwrite(gz, ext, 4);
  const std::size_t n = 91 * 109 * 91;
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  std::vector<float> roi(201), vol(n);
  std::vector<float> ar(201, 0.0f);
  for (int t = 0; t < T; ++t) {
    for (int l = 1; l <= 200; ++l) {
      ar[static_cast<std::size_t>(l)] = 0.7f * ar[static_cast<std::size_t>(l)] + g(rng);
      roi[static_cast<std::size_t>(l)] =
          800.0f + 15.0f * std::sin(0.05f * static_cast<float>(t) + static_cast<float>(l)) + 5.0f * ar[static_cast<std::size_t>(l)];
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (mask.data[i] == 0) {
        vol[i] = 0;
        continue;
      }
      const auto l = static_cast<std::size_t>(std::lround(labels.data[i]));
      vol[i] = (l > 0 ? roi[l] : 600.0f) + 8.0f * g(rng);
    }
    gzwrite(gz, vol.data(), static_cast<unsigned>(n * sizeof(float)));
  }
  gzclose(gz);
  std::filesystem::rename(tmp, out);
}

struct RunResult {
  double seconds;
  double peakRssMb;
  int exitCode;
};

RunResult runChild(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(stdout);  // or the child inherits and repeats what is buffered
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    if (std::freopen("/dev/null", "w", stdout) == nullptr) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {s, static_cast<double>(usage.ru_maxrss) / 1024.0, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

double timeShell(const std::string& cmd) {
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "command failed: %s\n", cmd.c_str());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const auto exeDir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  const auto cli = (exeDir / "../../app/braingraph-cli").lexically_normal();
  const auto data = bg::DataPaths::resolve({}, bg::Settings::loadDefault());
  const auto registry = bg::AtlasRegistry::load(bg::DataPaths::manifestDir(), data);
  std::filesystem::path bold = argc > 1 ? argv[1] : exeDir / "bench_bold_91x109x91x200.nii.gz";
  if (!std::filesystem::exists(bold)) {
    std::fprintf(stderr, "generating %s ...\n", bold.c_str());
    generate(bold, registry);
  }
  const auto outDir = std::filesystem::temp_directory_path() / ("bench_connectome_" + std::to_string(getpid()));

  std::printf("bold_file: %s\n", bold.c_str());
  std::printf("bold_mb: %.1f\n", static_cast<double>(std::filesystem::file_size(bold)) / 1e6);
  // Warm the page cache so every measurement reads from memory.
  timeShell("cat '" + bold.string() + "' > /dev/null");
  const double zcat = timeShell("zcat '" + bold.string() + "' > /dev/null");
  std::printf("zcat_s: %.3f\n", zcat);
  if (std::system("command -v igzip > /dev/null") == 0) std::printf("igzip_s: %.3f\n", timeShell("igzip -dc '" + bold.string() + "' > /dev/null"));

  const std::vector<std::string> common = {cli.string(), "--quiet", "--no-progress", "connectome", "--bold", bold.string(), "--no-clean", "--out"};
  auto one = common;
  one.insert(one.end(), {(outDir / "one").string(), "--atlas", "schaefer200"});
  auto eight = common;
  eight.insert(eight.end(), {(outDir / "eight").string(), "--atlas", "all"});
  // Quiet children: only this program prints figures.
  const auto a = runChild(one);
  const auto b = runChild(eight);
  std::filesystem::remove_all(outDir);
  if (a.exitCode != 0 || b.exitCode != 0) {
    std::fprintf(stderr, "braingraph-cli failed (%d, %d)\n", a.exitCode, b.exitCode);
    return 1;
  }
  std::printf("one_atlas_s: %.3f\n", a.seconds);
  std::printf("eight_atlas_s: %.3f\n", b.seconds);
  std::printf("one_atlas_vs_zcat: %.3f\n", a.seconds / zcat);
  std::printf("eight_atlas_vs_zcat: %.3f\n", b.seconds / zcat);
  std::printf("one_atlas_peak_rss_mb: %.1f\n", a.peakRssMb);
  std::printf("eight_atlas_peak_rss_mb: %.1f\n", b.peakRssMb);
  std::printf("peak_rss_mb: %.1f\n", std::max(a.peakRssMb, b.peakRssMb));
  return 0;
}
