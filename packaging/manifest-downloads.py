#!/usr/bin/env python3
"""Writes each atlas manifest's "downloads" list and the ABIDE dataset manifest
(resources/datasets/abide1-pcp.json): every data file with its size and SHA-256 (computed
from a data folder holding the released files, ../shared by default) and where it comes from.

Run again after a data file changes; `data fetch` refuses a download whose checksum differs.
Usage: packaging/manifest-downloads.py [DATA_DIR]
"""
import gzip, hashlib, json, os, sys

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
        note = "gzip -n -9 of the archive's ROI_MNI_V4.nii (voxels unchanged): checked by content_sha256, stored gzip-compressed" if name.endswith(".nii.gz") else None
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


def content(path):
    """(size, SHA-256) of a gzip file's decompressed content: the released file it recompresses."""
    data = gzip.open(path, "rb").read()
    return len(data), hashlib.sha256(data).hexdigest()


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
        if note and note.startswith("gzip -n -9"):
            entry["stored"] = "gzip"
            entry["content_size"], entry["content_sha256"] = content(path)
        downloads.append(entry)
    manifest["downloads"] = downloads
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"{atlas}: {len(downloads)} files")


# ---- ABIDE I through the Preprocessed Connectomes Project (the layout nilearn's fetch_abide_pcp reads)
PCP = "https://s3.amazonaws.com/fcp-indi/data/Projects/ABIDE_Initiative/"
PHENO = "Phenotypic_V1_0b_preprocessed1.csv"
ABIDE = {
    "cc200": {"folder": "abide1-cc200", "strategy": "filt_global", "volume": ("CC200.nii.gz", "cc200_roi_atlas.nii.gz"), "differs": None},
    "ho": {"folder": "abide1-ho", "strategy": "filt_noglobal", "volume": ("ho_mask_pad.nii.gz", "ho_roi_atlas.nii.gz"),
           "differs": "the project's copies have their values rounded to 4 decimals; PCP's files may carry more digits, so a "
                      "download whose content differs is kept and reported, not refused"},
}
data_dir = os.path.join(DATA, "data")
if os.path.isdir(os.path.join(data_dir, "abide1-cc200")):
    import csv
    site_of = {}
    with open(os.path.join(data_dir, "abide1-cc200", PHENO), newline="") as f:
        for row in csv.DictReader(f):
            site_of[row["FILE_ID"]] = row["SITE_ID"]
    atlases, scans = {}, {}
    for atlas, a in ABIDE.items():
        folder = os.path.join(data_dir, a["folder"])
        rois = f"rois_{atlas}"
        files = []
        pheno = os.path.join(folder, PHENO)
        files.append({"path": f"data/{a['folder']}/{PHENO}", "size": os.path.getsize(pheno), "sha256": sha256(pheno), "url": PCP + PHENO,
                      "released_differs": "the project's copy is PCP's table restricted to the 15 sites of these scans and written again by "
                                          "pandas (an extra index column); the released table (1,112 rows) has another checksum and is "
                                          "kept when it differs: import abide reads either"})
        local, released = a["volume"]
        vol = os.path.join(data_dir, "abide1-cc200", "atlas", local)
        files.append({"path": f"data/abide1-cc200/atlas/{local}", "size": os.path.getsize(vol), "sha256": sha256(vol),
                      "url": PCP + "Resources/" + released,
                      "note": f"C-PAC's resource file {local}, the label volume PCP's run used, renamed from PCP's {released}",
                      "released_differs": "PCP's published volume was not compared byte for byte with C-PAC's copy; a download "
                                          "that differs is kept and reported, and atlas list verifies its ROI count"})
        atlases[atlas] = {
            "strategy": a["strategy"],
            "url": PCP + f"Outputs/cpac/{a['strategy']}/{rois}/{{file_id}}_{rois}.1D",
            "path": f"data/{a['folder']}/{rois}/{{file_id}}_{rois}.1D.gz",
            "stored": "gzip",
            "note": "PCP serves plain .1D text; the workbench keeps it gzip-compressed (.1D.gz), checked by the released content's "
                    "size and SHA-256",
            "files": files,
        }
        if a["differs"]:
            atlases[atlas]["released_differs"] = a["differs"]
        for name in sorted(os.listdir(os.path.join(folder, rois))):
            file_id = name[: -len(f"_{rois}.1D.gz")]
            path = os.path.join(folder, rois, name)
            size, sha = content(path)
            scan = scans.setdefault(file_id, {"file_id": file_id, "site": site_of[file_id], "files": {}})
            scan["files"][atlas] = {"size": os.path.getsize(path), "sha256": sha256(path), "content_size": size, "content_sha256": sha}
    dataset = {
        "schema": 1,
        "id": "abide1-pcp",
        "display_name": "ABIDE I, Preprocessed Connectomes Project (C-PAC ROI time series)",
        "licence": "ABIDE data are for non-commercial research use (ABIDE data usage agreement, Creative Commons BY-NC-SA 3.0).",
        "citation": "Craddock C, et al. The Neuro Bureau Preprocessing Initiative: open sharing of preprocessed neuroimaging data "
                    "and derivatives. Frontiers in Neuroinformatics, 2013.",
        "source": "http://preprocessed-connectomes-project.org/abide/",
        "atlases": atlases,
        "scans": sorted(scans.values(), key=lambda s: s["file_id"]),
    }
    out = os.path.join(ROOT, "resources", "datasets", "abide1-pcp.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + ".tmp", "w") as f:
        # One scan per line: the file stays readable and its diffs small.
        body = json.dumps({k: v for k, v in dataset.items() if k != "scans"}, indent=2, ensure_ascii=False)
        lines = ",\n    ".join(json.dumps(s, ensure_ascii=False) for s in dataset["scans"])
        f.write(body[:-2] + ',\n  "scans": [\n    ' + lines + "\n  ]\n}\n")
    os.replace(out + ".tmp", out)
