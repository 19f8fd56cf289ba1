/**
 * Test data: the id of every figure a report holds (a run with a CNN and a ViT writes them all).
 *
 * @module
 */

/** Figure ids, in report order. */
export const FIGURE_IDS: readonly string[] = [
  "fig03_loss",
  "fig04_bmu_density",
  "fig05_bmus_by_class",
  "fig06ab_dclass",
  "fig06cd_weight_cd",
  "fig07_centre_cd",
  "fig08_datasets",
  "fig09_vit_weight_cd",
  "fig10_vit_centre_cd",
  "fig11_bmu_shifts",
  "fig12_vit_bmu_shifts",
  "supp01_bmu_density",
  "supp02_bmus_by_class",
  "supp03_correct_incorrect",
  "extra_map_quality",
  "extra_umatrix",
];
