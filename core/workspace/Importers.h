#pragma once
// Bringing scans into a workspace: the ABIDE Preprocessed Connectomes layout, BIDS /
// fMRIPrep derivatives, or single files. Re-importing what is already there (same
// content hash) is skipped, so an interrupted import can simply be run again.
#include <filesystem>
#include <string>
#include <vector>

#include "jobs/Progress.h"

namespace bg {

class Workspace;

struct ImportSummary {
  int imported = 0;
  int alreadyPresent = 0;
  int skipped = 0;                    // phenotype rows without a file
  int invalid = 0;                    // rows left out with skipInvalid (their reasons are in `notes`)
  std::vector<std::string> notes;     // what was left out and why
  std::vector<std::string> problems;  // files that could not be read (named, with the cause)
};

// `phenotypes`: Phenotypic_V1_0b_preprocessed1.csv; `timeseriesDir`: <FILE_ID>_rois_cc200.1D.gz files.
// Rows with a scan that a classifier must not learn from as they stand (a DX_GROUP other than 1 or 2,
// or a SUB_ID listed again with another DX_GROUP) are listed with their lines and refused as a whole
// (bg::Error, nothing imported) unless skipInvalid, which imports the rest and reports them.
ImportSummary importAbide(Workspace& ws, const std::filesystem::path& phenotypes, const std::filesystem::path& timeseriesDir, ProgressDelegate& progress,
                          bool skipInvalid = false);

// sub-*/[ses-*/]func/*_space-MNI152*_desc-preproc_bold.nii.gz with their *_desc-confounds_timeseries.tsv,
// and participants.tsv (in the folder or its parent) for phenotypes.
ImportSummary importBids(Workspace& ws, const std::filesystem::path& root, ProgressDelegate& progress);

// BOLD NIfTI files, or ROI time-series files whose columns follow `atlas` (e.g. cc200).
ImportSummary importFiles(Workspace& ws, const std::vector<std::filesystem::path>& files, const std::string& dataset, const std::string& subject,
                          const std::string& atlas, ProgressDelegate& progress);

}  // namespace bg
