#!/usr/bin/env python3
"""Writes each atlas manifest's "downloads" list: every data file with its size and SHA-256 (computed
from a data folder holding the released files, ../shared by default) and where it comes from.

Run again after a data file changes; `data fetch` refuses a download whose checksum differs.
Usage: packaging/manifest-downloads.py [DATA_DIR]
"""
import hashlib, json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared")

TF = "https://templateflow.s3.amazonaws.com/tpl-MNI152NLin6Asym/"
CBIG = ("https://github.com/ThomasYeoLab/CBIG/raw/d1454a6/stable_projects/brain_parcellation/"
        "Schaefer2018_LocalGlobal/Parcellations/MNI/Centroid_coordinates/")
EPITOME = "https://github.com/josephdviviano/epitome/raw/dca06ff/assets/"
XCP = "https://github.com/PennLINC/xcpEngine/raw/d7998c8/atlas/"
NEUROPARC = "https://github.com/neurodata/neuroparc/raw/3f93458/atlases/label/Human/"
NILEARN = "https://github.com/nilearn/nilearn/raw/59fffa2/nilearn/datasets/data/"
PAN = "https://github.com/MRIresearch/PANpipelines/raw/bd551e38/deployment/atlas/AAL/"
DERIVED = "made by the workbench's data maintainers from the files above (see atlases/SOURCES.md, 'Derived files'); no upstream copy"


def origin(atlas, name):
    """(url, archive, derived, note) of one file."""
    if name == "labels.tsv":
        return None, None, DERIVED, None
    if name.startswith("tpl-MNI152NLin6Asym"):
        return TF + name, None, None, None
    if name.endswith("Centroid_RAS.csv"):
        return CBIG + name, None, None, "rebuilt byte for byte from the CBIG text (atlases/SOURCES.md)"
    if atlas == "shen268":
        return EPITOME + name, None, None, "epitome's copy of the NITRC BioImage Suite release"
    if name == "Power_Consensus264.xls":
        return EPITOME + "labels/" + name, None, None, None
    if name == "power_2011.csv":
        return NILEARN + name, None, None, None
    if atlas in ("power264", "gordon333") and name.startswith(atlas):
        return XCP + atlas + "/" + name, None, None, None
    if name.startswith("CorticalAreaParcellation"):
        return NEUROPARC + name, None, None, None
    if atlas == "aal116":
        member = "ROI_MNI_V4.nii" if name.endswith(".nii.gz") else name
        note = "gzip -n -9 of the archive's ROI_MNI_V4.nii (voxels unchanged)" if name.endswith(".nii.gz") else None
        return None, {"url": PAN + "ext-d000035_AAL1Atlas_pub-Release2018_SPM12.zip", "inner": "aal_for_SPM12.zip", "member": member}, None, note
    if atlas == "aal3v1":
        return None, {"url": PAN + "AAL3v1_for_SPM12.zip", "member": name}, None, None
    raise SystemExit(f"no origin rule for {atlas}/{name}")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


for atlas in sorted(os.listdir(os.path.join(ROOT, "atlases"))):
    manifest_path = os.path.join(ROOT, "atlases", atlas, "manifest.json")
    if not os.path.exists(manifest_path):
        continue
    folder = os.path.join(DATA, "atlases", atlas)
    if not os.path.isdir(folder):
        continue  # CC200 and HO come with the ABIDE data (data fetch abide)
    with open(manifest_path) as f:
        manifest = json.load(f)
    downloads = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        url, archive, derived, note = origin(atlas, name)
        entry = {"path": f"atlases/{atlas}/{name}", "size": os.path.getsize(path), "sha256": sha256(path)}
        if url: entry["url"] = url
        if archive: entry["archive"] = archive
        if derived: entry["derived"] = derived
        if note: entry["note"] = note
        downloads.append(entry)
    manifest["downloads"] = downloads
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"{atlas}: {len(downloads)} files")
