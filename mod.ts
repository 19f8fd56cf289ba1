/**
 * somscope: record hidden layers of an ONNX image classifier, turn feature maps into vector
 * codes, train toroidal cosine self-organizing maps per layer, and measure how inputs, classes
 * and adversarial versus random perturbations land on them.
 *
 * @example Seeded randomness and numpy interchange
 * ```ts
 * import { decodeNpy, encodeNpy, Rng } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const rng = new Rng(7);
 * const data = Float32Array.from({ length: 6 }, () => rng.normal());
 * const back = decodeNpy(encodeNpy({ data, shape: [2, 3] }));
 * assertEquals(back.shape, [2, 3]);
 * assertEquals(Array.from(back.data as Float32Array), Array.from(data));
 * ```
 *
 * @module
 */

export {
  DataFormatError,
  GpuUnavailableError,
  GpuValidationError,
  ModelFormatError,
} from "./lib/errors.ts";
export { Rng } from "./lib/rng.ts";
export { decodeNpy, encodeNpy, type NpyArray, type NpyData, readNpy, writeNpy } from "./lib/npy.ts";
export { writeFileAtomic, writeJsonAtomic } from "./lib/fs_atomic.ts";
export {
  type BeginOptions,
  type Ownership,
  type PreviousRun,
  RunFolderError,
  StagedFolder,
} from "./lib/output_folder.ts";
export { Progress, type ProgressOptions } from "./lib/progress.ts";
export {
  type AdapterFacts,
  type GpuAuto,
  GpuContext,
  type GpuContextOptions,
  GpuLease,
  type GpuPolicy,
  gpuPolicy,
  STORAGE_USAGE,
} from "./lib/gpu/context.ts";
export {
  type Manifest,
  newManifest,
  PACKAGE_VERSIONS,
  SOMSCOPE_VERSION,
  timed,
  writeManifest,
} from "./lib/manifest.ts";

// Grid geometry and pairwise distance kernels, shared by the SOM and the analyses (issue 2 §3.4)
export {
  gridD2Table,
  type GridShape,
  pairwiseTorusDistances,
  pairwiseTorusDistancesGpu,
  torusD2,
  torusDistance,
  unitPosition,
} from "./lib/geometry/torus.ts";
export {
  cosineDistanceMatrix,
  cosineDistanceMatrixGpu,
  cosineDistanceMatrixNative,
  cosineDistanceMatrixReference,
} from "./lib/geometry/cosine.ts";

// Vector codes from feature maps (issue 2 §3.1)
export {
  codeDimension,
  type ComMode,
  type GpuCodes,
  type GpuReduceOptions,
  type ReduceBackend,
  reduceFeatureMaps,
  reduceFeatureMapsCpu,
  reduceFeatureMapsGpu,
  reduceFeatureMapsGpuToBuffer,
  type ReduceFeatureMapsOptions,
  reduceFeatureMapsReference,
  type ReduceOptions,
} from "./lib/codes/feature_map_reduce.ts";

// The SOM: QuickSOM semantics, backends webgpu / cpu / reference (issue 2 §3.2–3.3, §4)
export {
  type EpochArgs,
  type EpochResult,
  type SomBackend,
  type SomGeometry,
  type TopK,
} from "./lib/som/backend.ts";
export {
  referenceBackend,
  type ScheduleValue,
  somNeighbourhood,
  somSchedule,
} from "./lib/som/reference.ts";
export { webgpuBackend, type WebgpuBackendOptions } from "./lib/som/webgpu_backend.ts";
export { cpuBackend, type CpuBackendOptions } from "./lib/som/cpu_backend.ts";
export {
  Som,
  SOM_BACKENDS,
  type SomBackendName,
  type SomLoadOptions,
  type SomOptions,
  type SomProgress,
  type SomQuality,
} from "./lib/som/som.ts";
export type { SomInit } from "./lib/som/init.ts";
export { checkSomSize, type SomSize, type SomSizeOptions } from "./lib/som/size.ts";
export type { SomFile } from "./lib/som/som_file.ts";
export { quantizationError, topographicError, uMatrix } from "./lib/som/quality.ts";

// Models and extraction: ONNX loading, layers, surgery, runtimes, cached codes (issue 3 §1, §3)
export type { GraphLike, ModelProto } from "./lib/onnx/proto.ts";
export {
  type ImageInput,
  type LoadedModel,
  loadModel,
  type LoadModelOptions,
  sha256Hex,
} from "./lib/model/load.ts";
export {
  checkFiniteLogits,
  type ModelValidation,
  validateModel,
  type ValidateModelOptions,
} from "./lib/grad/validate.ts";
export {
  type CutTensor,
  findCutTensors,
  type LayerCandidate,
  type LayerList,
  type LayerSpec,
  listLayers,
  type ListLayersOptions,
  probeShapes,
  resolveLayers,
} from "./lib/model/layers.ts";
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  type Normalize,
  parseNormalize,
  type PreparedModel,
  type PreparedTap,
  prepareModel,
  type PrepareOptions,
  resolveNormalize,
  tapOutputName,
  type TapRequest,
} from "./lib/model/surgery.ts";
export {
  createRuntime,
  type ModelRuntime,
  type RunResult,
  RUNTIME_CHOICES,
  type RuntimeChoice,
  type RuntimeKind,
  type RuntimeOptions,
  type TapOutput,
} from "./lib/model/runtime.ts";
export {
  CODE_VERSION,
  type DatasetLike,
  defaultCacheDir,
  extractCodes,
  type ExtractOptions,
  type ExtractResult,
  type LayerCodes,
} from "./lib/extract/extract.ts";
export { MERGE_BYTES, RowStore, type RowStoreOptions } from "./lib/extract/cache.ts";
export { parseShard, type Shard, shardRange } from "./lib/extract/shard.ts";
export {
  codesToArrow,
  safeLayerName,
  writeCodes,
  type WrittenLayer,
} from "./lib/extract/tables.ts";

// Gradient graphs, PGD attack and BMU shifts (SPEC §5)
export {
  deriveForwardGraph,
  deriveGradientGraph,
  derivePgdStepGraph,
  GRADIENT_GRAPH_IO,
  type GradientGraphOptions,
} from "./lib/grad/derive.ts";
export { SUPPORTED_OPS } from "./lib/grad/ops.ts";
export {
  checkGradientConformance,
  GRADIENT_CONFORMANCE_ARCHS,
  type GradientConformance,
  runGradientConformance,
} from "./lib/grad/conformance.ts";
export {
  type Feeds,
  type GraphRuntime,
  type GraphSession,
  type GraphSessionOptions,
  openGraphSession,
} from "./lib/model/ort.ts";
export {
  argmaxRows,
  defaultStepSize,
  PgdAttack,
  type PgdAttackOptions,
  type PgdRunOptions,
  resolvePgdSettings,
} from "./lib/attack/pgd.ts";
export {
  type AttackDataset,
  type AttackExample,
  type AttackOptions,
  type AttackResult,
  type AttackSummary,
  contactSheet,
  type NormStats,
  runAttack,
  writeAttackOutputs,
} from "./lib/attack/attack.ts";

// Built-in fixtures (issue 3 §4)
export { BUILTIN_MODELS, type BuiltinModelName, builtinModelUrl } from "./lib/builtin.ts";

// Data: dataset specs, loaders and seeded per-class sampling.
export { openDataset } from "./lib/data/dataset.ts";
export { type Dataset, type LabelMapping, type OpenDatasetOptions } from "./lib/data/types.ts";
export {
  type ClassIndex,
  readClassIndex,
  relabelDataset,
  resolveLabelMapping,
  type ResolveLabelMappingOptions,
} from "./lib/data/class_index.ts";
export { BUILTIN_DATASETS, type DataKind, type DataSpec, parseDataSpec } from "./lib/data/spec.ts";
export { type IdxArray, parseIdx } from "./lib/data/idx.ts";
export { CIFAR10_CLASSES } from "./lib/data/cifar.ts";
export { IMAGE_EXTENSIONS } from "./lib/data/image_folder.ts";
export {
  type PerClassSample,
  samplePerClass,
  type SamplePerClassOptions,
} from "./lib/data/sampling.ts";

// Analyses of functional codes, the paper's claims, figures, report and `reproduce` (SPEC §4, §6)
export {
  type BoxStats,
  boxStats,
  type Distribution,
  distribution,
  quantileSorted,
} from "./lib/analysis/box_stats.ts";
export { type BmuDensity, bmuDensity, type DensityOptions } from "./lib/analysis/density.ts";
export {
  bmusByClass,
  centreDistances,
  type ClassBmuCounts,
  type ClassCentre,
  classCentres,
  type ClassDistance,
  type CorrectnessDistance,
  correctnessDistances,
  dClass,
  unfold,
} from "./lib/analysis/class_centres.ts";
export {
  centreCosineDistances,
  type CentreDistances,
  weightCosineDistances,
} from "./lib/analysis/weight_distances.ts";
export {
  alignMaps,
  type Alignment,
  applySymmetry,
  invertSymmetry,
  type PlacementStability,
  placementStability,
  type SeedMap,
  type SeedPairComparison,
  torusSymmetries,
  type TorusSymmetry,
} from "./lib/analysis/alignment.ts";
export {
  bmuShiftDistances,
  type BmuShiftOptions,
  type BmuShiftRow,
  type BmuShifts,
  bmuShifts,
  type BmuShiftSummary,
  bmuShiftTable,
  type ShiftStats,
  shiftStats,
} from "./lib/analysis/shifts.ts";
export { bootstrapInterval } from "./lib/analysis/bootstrap.ts";
export {
  analyzeModel,
  type AnalyzeOptions,
  type EnsembleMap,
  type LayerAnalysis,
  type LayerInput,
  type ModelAnalysis,
  type ShiftInput,
  type ShiftSummary,
  type SizedMap,
  type SplitBmus,
} from "./lib/analysis/analyze.ts";
export { claimsDocument, evaluateClaims, VIT_FIGURES } from "./lib/analysis/claims.ts";
export {
  CLAIM_DEFAULTS,
  type ClaimOptions,
  type ClaimResult,
  type EffectSummary,
  type Interval,
  type LayerValue,
  type NullSummary,
  type SecondaryLine,
  type TrendSummary,
  type Verdict,
} from "./lib/analysis/claim_types.ts";
export { type Guard, GUARD_DEFAULTS, type GuardOptions } from "./lib/analysis/guards.ts";
export {
  ACCURACY_CONDITIONS,
  type AccuracyCondition,
  type AttackOutcome,
  attackOutcome,
  type Rate,
} from "./lib/analysis/attack_outcome.ts";
export { type ClassStatistic, type LayerClassStats } from "./lib/analysis/class_stats.ts";
export { buildFigures, type BuildFiguresOptions, isVit } from "./lib/report/figures.ts";
export type { FigureSpec } from "./lib/report/figures/spec.ts";
export { renderSvg, svgToPng } from "./lib/report/render.ts";
export { analysisTables, type Table, writeTables } from "./lib/report/tables.ts";
export {
  buildReportHtml,
  type RenderedFigure,
  type ReportHtmlOptions,
  type RunSummary,
} from "./lib/report/html.ts";
export {
  type AttackSheetInput,
  attackSheetInput,
  type AttackSheetRow,
  type AttackView,
  attackViews,
  sheetResult,
} from "./lib/report/html/attack.ts";
export {
  type ReportFiles,
  scopeSvgIds,
  writeReport,
  type WriteReportOptions,
} from "./lib/report/write_report.ts";
export {
  type AnalysisSettings,
  checkGridSize,
  DEFAULT_RUN_MODELS,
  defaultConfig,
  type ModelConfig,
  type ReproduceConfig,
  type RunSettings,
  runSettings,
  validateConfig,
} from "./lib/pipeline/config.ts";
export {
  reproduce,
  type ReproduceOptions,
  type ReproduceResult,
  reproduceShard,
  type ShardModelResult,
} from "./lib/pipeline/reproduce.ts";
