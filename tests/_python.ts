/**
 * Whether the machine's python3 can import what a test of an independent reader needs.
 *
 * @module
 */

/** True when `python3 -c "import <modules>"` succeeds. */
export function pythonHas(...modules: string[]): boolean {
  try {
    return new Deno.Command("python3", {
      args: ["-c", `import ${modules.join(", ")}`],
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}
