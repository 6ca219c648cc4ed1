/**
 * A layer list of one's own (`--model spec.json`): `{ "input": [1, 28, 28], "layers": [{ "kind":
 * "conv2d", "filters": 8, "kernel": 3, "padding": 1 }, { "kind": "relu" }, …] }` with every layer
 * kind of src/model/layers/, each field as its kind declares it (`LayerKind.fields`; absent ones
 * take their defaults). The first bad layer is named in a one-line error: an unknown kind, a
 * missing, unknown or ill-typed field, or a layer that does not fit its input.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { LayerSpec, SpecField } from "./layers/layer.ts";
import { LAYER_KINDS } from "./layers/registry.ts";
import { activationShapes, type ModelSpec } from "./network.ts";

/** A field's value checked against its declaration; `where` names the layer and field. */
function fieldValue(field: SpecField, value: unknown, where: string): number | boolean {
  const ok = field.type === "boolean"
    ? typeof value === "boolean"
    : typeof value === "number" && Number.isFinite(value) && value >= 0 &&
      (field.type === "number" || Number.isInteger(value)) &&
      (field.type !== "count" || value >= 1);
  if (!ok) {
    const expected = {
      count: "an integer >= 1",
      natural: "an integer >= 0",
      number: "a number >= 0",
      boolean: "true or false",
    }[field.type];
    throw new UsageError(`${where} must be ${expected}, got ${JSON.stringify(value)}`);
  }
  return value as number | boolean;
}

/** One layer of the list, validated; `where` names it (`spec.json: layer 3`). */
function layerOf(raw: unknown, where: string): LayerSpec {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new UsageError(`${where} must be an object with a "kind"`);
  }
  const { kind, ...given } = raw as Record<string, unknown>;
  const layer = typeof kind === "string" ? LAYER_KINDS.get(kind) : undefined;
  if (!layer) {
    throw new UsageError(
      `${where}: unknown kind ${JSON.stringify(kind)}; kinds: ${
        [...LAYER_KINDS.keys()].join(", ")
      }`,
    );
  }
  const fields = layer.fields ?? {};
  const stray = Object.keys(given).find((name) => !(name in fields));
  if (stray) {
    throw new UsageError(
      `${where} (${kind}): unknown field "${stray}"; its fields: ${
        Object.keys(fields).join(", ") || "none"
      }`,
    );
  }
  const spec: Record<string, unknown> = { kind };
  for (const [name, field] of Object.entries(fields)) {
    if (given[name] !== undefined) {
      spec[name] = fieldValue(field, given[name], `${where} (${kind}) ${name}`);
    }
  }
  for (const [name, field] of Object.entries(fields)) {
    if (spec[name] !== undefined) continue;
    const fallback = field.defaultFrom ? spec[field.defaultFrom] : field.default;
    if (fallback === undefined) throw new UsageError(`${where} (${kind}) needs "${name}"`);
    spec[name] = fallback;
  }
  return spec as unknown as LayerSpec;
}

/** Parses and checks a JSON layer list; `path` names the file in errors. */
export function parseModelSpec(text: string, path: string): ModelSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${path}: not valid JSON`);
  }
  const { input, layers } = (json ?? {}) as { input?: unknown; layers?: unknown };
  const inputOk = Array.isArray(input) && input.length >= 1 &&
    input.every((d) => Number.isInteger(d) && d >= 1);
  if (!inputOk) {
    throw new UsageError(
      `${path}: "input" must be the shape of one sample, e.g. [784] or [1, 28, 28]`,
    );
  }
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new UsageError(`${path}: "layers" must be a non-empty list of layers`);
  }
  const spec: ModelSpec = { input: input as number[], layers: [] };
  layers.forEach((raw, i) => {
    spec.layers.push(layerOf(raw, `${path}: layer ${i}`));
    try {
      activationShapes(spec);
    } catch (err) {
      throw new UsageError(`${path}: layer ${i}: ${(err as Error).message.split("\n")[0]}`);
    }
  });
  return spec;
}
