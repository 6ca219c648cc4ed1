/**
 * `deno task setup`: makes sure the system pieces wgprune needs are present — a Vulkan driver
 * (a GPU's own, or Mesa's software lavapipe) and, for the tests, Debian's Chromium. The tasks run
 * it first, so a fresh Debian machine with only Node.js/npm works with the README's commands.
 * It installs with apt-get only when running as root on Debian and something is missing; it
 * never touches a machine that already has a driver.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { UsageError } from "../util/errors.ts";
import { parseFlags } from "./train_options.ts";

const ICD_DIRS = [
  "/usr/share/vulkan/icd.d",
  "/etc/vulkan/icd.d",
  "/usr/local/share/vulkan/icd.d",
  "/usr/local/nvidia/share/vulkan/icd.d",
];

function hasEntries(dir: string, suffix: string): boolean {
  try {
    for (const entry of Deno.readDirSync(dir)) if (entry.name.endsWith(suffix)) return true;
  } catch {
    // missing folder
  }
  return false;
}

/** True when a Vulkan driver manifest is installed or named by the environment. */
export function hasVulkanDriver(): boolean {
  if (Deno.env.get("VK_DRIVER_FILES") || Deno.env.get("VK_ICD_FILENAMES")) return true;
  if (Deno.env.get("DENO_WEBGPU_BACKEND") === "gl") return true;
  return ICD_DIRS.some((d) => hasEntries(d, ".json"));
}

/** True when Debian's chromium binary is on the machine. */
export function hasChromium(): boolean {
  try {
    return Deno.statSync("/usr/bin/chromium").isFile;
  } catch {
    return false;
  }
}

function canApt(): boolean {
  try {
    return Deno.statSync("/usr/bin/apt-get").isFile && Deno.uid() === 0;
  } catch {
    return false;
  }
}

async function sh(command: string): Promise<void> {
  console.error(`setup: ${command}`);
  const status = await new Deno.Command("sh", {
    args: ["-c", command],
    stdout: "inherit",
    stderr: "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).spawn().status;
  if (!status.success) throw new UsageError(`setup: "${command}" failed (exit ${status.code})`);
}

/**
 * Installs what is missing (Mesa's Vulkan driver; Chromium when `browser`), preferring Mesa 25
 * from bookworm-backports on Debian 12, where it runs our kernels about twice as fast as Mesa 22.
 */
export async function ensureSystem(browser: boolean): Promise<void> {
  const missing: string[] = [];
  if (!hasVulkanDriver()) missing.push("mesa-vulkan-drivers");
  if (browser && !hasChromium()) missing.push("chromium");
  if (missing.length === 0) return;
  if (!canApt()) {
    throw new UsageError(
      `missing ${missing.join(" and ")}: install with \`sudo apt-get install ${
        missing.join(" ")
      }\`` +
        " (or install your GPU's Vulkan driver)",
    );
  }
  const osRelease = await Deno.readTextFile("/etc/os-release").catch(() => "");
  const bookworm = osRelease.includes("VERSION_CODENAME=bookworm");
  if (bookworm && missing.includes("mesa-vulkan-drivers")) {
    await sh(
      "grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/ || " +
        "echo 'deb http://deb.debian.org/debian bookworm-backports main' " +
        "> /etc/apt/sources.list.d/wgprune-backports.list",
    );
  }
  await sh("apt-get update -qq");
  for (const pkg of missing) {
    const fromBackports = bookworm && pkg === "mesa-vulkan-drivers" ? "-t bookworm-backports " : "";
    await sh(`apt-get install -y -qq ${fromBackports}${pkg} > /dev/null`);
  }
}

if (import.meta.main) {
  await runMain("setup", async () => {
    const flags = parseFlags(Deno.args, {
      browser: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (flags.help) {
      console.log(
        "Usage: deno task setup [--browser]\n\nInstalls Mesa's Vulkan driver (and " +
          "Chromium with --browser) when missing, using apt-get as root.",
      );
      return;
    }
    await ensureSystem(flags.browser);
  });
}
