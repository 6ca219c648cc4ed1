/**
 * A point's identity, spelled in one place: the fields of its sweep.csv row that say what was
 * computed, and the three names made from them — its key in sweep.csv (`key`), its export folder
 * (`folder`) and its fine-tuning history file (`historyFile`).
 *
 * @module
 */

import type { SweepRow } from "./results.ts";

/** The row fields that identify a point (the later columns may be absent in old files). */
export type PointFields =
  & Pick<
    SweepRow,
    | "model"
    | "method"
    | "strategy"
    | "k"
    | "finetune_epochs"
    | "recovery_lr"
    | "steps"
    | "prune_params"
    | "rewind"
  >
  & Partial<
    Pick<SweepRow, "allocation" | "allocation_sha256" | "bits" | "quantize_epochs" | "quantize_lr">
  >;

/** A point: what was pruned from which model, how, and what was done after. */
export class PointId {
  /** The identifying fields. */
  readonly fields: PointFields;

  /** The identity of a row (or of the row a point will write). */
  constructor(fields: PointFields) {
    this.fields = fields;
  }

  /**
   * Its key in sweep.csv: the model it was pruned from, method, strategy, k, the recovery
   * settings (epochs, learning rate, rounds, rewind target), which parameters were pruned, the
   * allocation (and its file's checksum) and the weight sharing after it (bits, epochs, learning
   * rate). No two rows of sweep.csv share a key.
   */
  key(): string {
    const f = this.fields;
    return [
      f.model,
      f.method,
      f.strategy,
      Number(f.k),
      Number(f.finetune_epochs),
      Number(f.recovery_lr),
      Number(f.steps),
      f.prune_params,
      f.rewind,
      f.allocation ?? "uniform",
      f.allocation_sha256 ?? "",
      f.bits ?? "32",
      Number(f.quantize_epochs ?? 0),
      Number(f.quantize_lr ?? 0),
    ].join("|");
  }

  /**
   * Its export folder under `root`: `<method>_k<k>_<strategy>`, then the settings that differ
   * from the defaults (`settingsSuffix`).
   */
  folder(root: string): string {
    const f = this.fields;
    const method = f.method.replace(":", "-"); // nm2:4 → nm2-4
    return `${root}/${method}_k${f.k}_${f.strategy}${this.settingsSuffix()}`;
  }

  /**
   * Its fine-tuning history under `dir`:
   * `<method>_<strategy>_<rewind>_ft<epochs>_lr<lr>[_steps<n>]<settings>_k<k>.csv`.
   */
  historyFile(dir: string): string {
    const f = this.fields;
    const steps = Number(f.steps) > 0 ? `_steps${f.steps}` : "";
    return `${dir}/${f.method}_${f.strategy}_${f.rewind}_ft${f.finetune_epochs}_lr${f.recovery_lr}` +
      `${steps}${this.settingsSuffix()}_k${f.k}.csv`;
  }

  /**
   * What the non-default settings add to both names: `_q5` / `_q8-5` (weight sharing), `_int8` /
   * `_f16`, `_<allocation>` (`_sensitivity-<12 hex digits of the file's sha256>`, so two scans
   * never share a name whatever their paths) and `_pp<patterns>`.
   */
  private settingsSuffix(): string {
    const f = this.fields;
    const bits = f.bits ?? "32";
    const quantized = bits === "32"
      ? ""
      : /^\d/.test(bits)
      ? `_q${bits.replace(",", "-")}`
      : `_${bits}`;
    const allocation = f.allocation ?? "uniform";
    let allocationPart = allocation === "uniform" ? "" : `_${allocation.replace(/[^\w.-]/g, "_")}`;
    if (allocation.startsWith("sensitivity:")) {
      if (!f.allocation_sha256) {
        throw new Error(`PointId: ${allocation} without its file's checksum`);
      }
      allocationPart = `_sensitivity-${f.allocation_sha256.slice(0, 12)}`;
    }
    const params = f.prune_params === "default"
      ? ""
      : `_pp${f.prune_params.replace(/[^\w.-]/g, "_")}`;
    return `${quantized}${allocationPart}${params}`;
  }
}

/** The sweep.csv key of a row (`PointId.key`). */
export function pointKey(row: PointFields): string {
  return new PointId(row).key();
}
