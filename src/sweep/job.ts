/**
 * The sweep's inputs and the shape of one point as it passes through the stages of
 * src/sweep/stages/: what a point is (`SweepPoint`) and what computing it yields for the record
 * stage (`PointOutcome`).
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import type { ExportInfo } from "../export/meta.ts";
import type { Model } from "../model/network.ts";
import type { Masks } from "../model/masks.ts";
import type { Allocation } from "../prune/allocation.ts";
import type { GradientScorer } from "../prune/method.ts";
import type { LoadedSensitivity } from "../prune/sensitivity.ts";
import type { PtqFormat } from "../quant/ptq_model.ts";
import type { StoredValues } from "../quant/dc_file.ts";
import type { RecoveryOptions, TrainingSettings } from "../recover/strategy.ts";
import type { QuantizeOptions } from "../recover/weight_sharing.ts";
import type { EpochRecord } from "../train/trainer.ts";
import type { CrossoverTable, InferMode, NmSpeedTable } from "../train/infer_paths.ts";
import type { DataSplits } from "../train/splits.ts";
import type { ProgressFactory } from "../util/progress.ts";
import type { PointId } from "./point_id.ts";
import type { SweepRow } from "./results.ts";

/** Everything a sweep needs. */
export interface SweepJob {
  /** The trained model. */
  trained: Model;
  /** Id of the trained model (first 16 hex digits of its checkpoint's data_sha256). */
  model: string;
  /** Loaders of the initial and epoch snapshots (for rewinding). */
  snapshot: (which: "init" | number) => Promise<Model>;
  /** Data on the GPU. */
  data: DataSplits;
  /** Method names. */
  methods: string[];
  /** Sparsity levels in percent. */
  ks: number[];
  /** Names of the parameters pruned. */
  prunable: readonly string[];
  /** The `--prune-params` value they came from (written to sweep.csv). */
  pruneParams: string;
  /** Recovery settings. */
  recovery: RecoveryOptions;
  /** Training settings of the experiment (batch size, lr, epochs, seed). */
  training: TrainingSettings;
  /** sweep.csv path. */
  csvPath: string;
  /** Folder for fine-tuning histories. */
  historyDir: string;
  /** Recompute finished points. */
  force: boolean;
  /** Print the per-layer report of each point and every training epoch. */
  verbose: boolean;
  /** Forward passes timed per point (median reported). */
  inferRepeats: number;
  /** Progress display (default: none). */
  progress?: ProgressFactory;
  /** Receives notes (default: none). */
  log?: (line: string) => void;
  /**
   * Folder under which every pruned point's model is exported (`PointId.folder`, see
   * src/export/formats.ts); a point whose export is missing is computed again.
   */
  exportDir?: string;
  /** `--infer`: inference path of the measured passes (default auto). */
  infer?: InferMode;
  /** Crossover densities of this adapter for `auto` (defaults when undefined). */
  crossovers?: CrossoverTable;
  /** This adapter's N:M kernel timings (`deno task bench --nm`), for `auto`; none: never N:M. */
  nmSpeeds?: NmSpeedTable;
  /** Experiment id and dataset name, recorded in exported meta.json. */
  source?: { experiment: string; dataset: string };
  /** Trained weight sharing after each point's recovery (`--quantize-bits`), or none. */
  quantize?: QuantizeOptions;
  /** How each method's sparsity is spread over the layers (default `uniform`). */
  allocation?: Allocation;
  /** Gradient scores on the GPU, for the methods that need them. */
  scorer?: GradientScorer;
  /** The scan behind a `sensitivity:PATH` allocation (its checksum names the points). */
  sensitivity?: LoadedSensitivity;
  /**
   * Post-training quantisation of each point after its recovery (`--ptq`): its accuracy is
   * measured by the kernels that read the quantised weights; not with `quantize`.
   */
  ptq?: PtqFormat;
  /** `--baseline small-dense`: after the pruned points, one small dense network per k > 0. */
  baseline?: boolean;
  /**
   * A sharded sweep's share (src/sweep/shard.ts): only the points `select` accepts are computed,
   * into `csvPath` (the shard's own file); rows of `mergedCsvPath` (sweep.csv) count as done.
   */
  shard?: { select: (method: string, k: number) => boolean; mergedCsvPath: string };
}

/** The dense trained model's figures every point is compared with, measured once per run. */
export interface DenseReference {
  /** Median forward time over the test split (ms). */
  ms: number;
  /** Hidden widths, `-`-joined. */
  hidden: string;
  /** Its parameters' gzip -9 bytes. */
  gzip: number;
}

/** What the record stage keeps of a computed point. */
export interface PointOutcome {
  /** Its sweep.csv row. */
  row: SweepRow;
  /** Its fine-tuning history (empty when it had none). */
  history: EpochRecord[];
  /** What is exported with `--save` (pruned points only). */
  exported?: {
    model: Model;
    masks: Masks;
    info: ExportInfo;
    stored: StoredValues;
  };
  /** The per-layer report printed with `--verbose`. */
  report: string;
}

/** One point of a sweep, of either kind (pruned, or the small-dense baseline). */
export interface SweepPoint {
  /** Method name (`small-dense` for the baseline). */
  method: string;
  /** Level in percent. */
  k: number;
  /** Its identity, with the model id. */
  id: PointId;
  /** True when `--save` exports it (a missing export makes the point pending again). */
  exports: boolean;
  /** Computes it: the stages of its kind. */
  compute(gpu: GpuContext, dense: DenseReference): Promise<PointOutcome>;
}
