// make_synthetic_bold LABELS.nii.gz OUT.nii.gz [T] [TR]: a realistic synthetic BOLD scan on an atlas's
// grid (see SyntheticBold.h), for shell-level tests such as the package install test.
#include <cstdio>
#include <string>

#include "errors/Error.h"
#include "support/SyntheticBold.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_synthetic_bold LABELS.nii.gz OUT.nii.gz [T=60] [TR=2.0]\n");
    return 64;
  }
  try {
    const int t = argc > 3 ? std::stoi(argv[3]) : 60;
    const double tr = argc > 4 ? std::stod(argv[4]) : 2.0;
    bgtest::writeSyntheticBold(argv[2], bg::readNiftiVolume(argv[1]), t, tr, 2.0, 7);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 65;
  }
}
