/**
 * Deploy: the fastest exact inference form of a compressed point. Dead units and filters are
 * removed (src/model/compact.ts), then each weight whose layer has a compressed forward runs the
 * kernel measured fastest for its density and pattern (src/train/infer_paths.ts): dense, CSR or
 * N:M.
 *
 * @module
 */

import type { GpuContext } from "../../gpu/device.ts";
import { compactUnits } from "../../model/compact.ts";
import { hiddenWidths, type Model } from "../../model/network.ts";
import { choosePaths, type InferPath, type LayerPath } from "../../train/infer_paths.ts";
import { pathRepresentations, type WeightRepresentations } from "../../train/inference_network.ts";
import type { SweepJob } from "../job.ts";

/** sweep.csv's `infer_path` letter of each kernel: dense, sparse CSR, N:M. */
const INFER_PATH_LETTER: Record<InferPath, string> = { dense: "d", sparse: "s", nm: "n" };

/** A deployed point. */
export interface Deployed {
  /** The compacted model. */
  compact: Model;
  /** Its hidden widths, `-`-joined. */
  hidden: string;
  /** The path chosen for each weight. */
  paths: LayerPath[];
  /** The representation of each weight not run dense. */
  weights: WeightRepresentations;
  /** sweep.csv's `infer_path`: one letter per weight. */
  pathLetters: string;
}

/** Compacts `model` and chooses each weight's inference path. */
export function deployPoint(gpu: GpuContext, job: SweepJob, model: Model): Deployed {
  const compact = compactUnits(model);
  const paths = choosePaths(
    compact,
    job.infer ?? "auto",
    job.crossovers,
    gpu.software,
    job.nmSpeeds,
  );
  return {
    compact,
    hidden: hiddenWidths(compact.spec).join("-"),
    paths,
    weights: pathRepresentations(paths),
    pathLetters: paths.map((p) => INFER_PATH_LETTER[p.path]).join(""),
  };
}
