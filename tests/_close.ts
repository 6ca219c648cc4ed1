/**
 * Test helper: elementwise closeness `|gpu − ref| ≤ atol + rtol·|ref|`, printing the first
 * mismatches on failure.
 *
 * @module
 */

/** Asserts every element is within `atol + rtol·|ref|`; throws listing the first 5 mismatches. */
export function assertClose(
  label: string,
  gpu: ArrayLike<number>,
  ref: ArrayLike<number>,
  atol: number,
  rtol: number,
): void {
  if (gpu.length !== ref.length) {
    throw new Error(`${label}: length ${gpu.length} != reference ${ref.length}`);
  }
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < ref.length; i++) {
    const diff = Math.abs(gpu[i] - ref[i]);
    if (!(diff <= atol + rtol * Math.abs(ref[i]))) {
      count++;
      if (bad.length < 5) bad.push(`[${i}] gpu=${gpu[i]} ref=${ref[i]} diff=${diff}`);
    }
  }
  if (count > 0) {
    throw new Error(
      `${label}: ${count}/${ref.length} elements outside atol=${atol} rtol=${rtol}: ` +
        bad.join("; "),
    );
  }
}
