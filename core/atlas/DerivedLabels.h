#pragma once
// Names, hemispheres, networks and centroids for a label volume that comes without a label table
// (ABIDE's CC200 and Harvard-Oxford volumes), computed from the overlap with registered atlases.
#include <vector>

#include "atlas/AtlasManifest.h"

namespace bg {

class AtlasRegistry;

// One label per code of `manifest.derivedLabels`, in that order:
// * name: the `namesFrom` region(s) covering most of its voxels ("Precentral L / Postcentral L (#136)"),
//   or "near" the nearest one when none covers it (the brainstem has no AAL region);
//   a second region is named when it covers at least a quarter of the overlap;
// * network: the network of `networksFrom` that most of its voxels fall in, or "Subcortical/cerebellum"
//   when under a quarter of its voxels lie in that atlas's (cortical) parcels;
// * hemisphere from the centroid's side of the midline, and the centroid as the MNI position.
// Throws bg::Error naming the atlas when a code has no voxels.
std::vector<AtlasLabel> deriveLabels(const AtlasManifest& manifest, const AtlasRegistry& registry);

// "Frontal_Sup_Orb_L" -> "Frontal Sup Orb L".
std::string readableRegionName(std::string name);

}  // namespace bg
