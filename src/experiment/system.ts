/**
 * The system pieces wgprune needs and installs itself when they are missing: a Vulkan driver (a
 * GPU's own, or Mesa's software lavapipe), Debian's Chromium for the browser tests, and Debian's
 * `dataset-fashion-mnist` for `--dataset fashion`. It installs with apt-get only when running as
 * root on Debian, printing each command; elsewhere a missing piece is a one-line error naming
 * the command to run. It never touches a machine that already has what is asked for.
 *
 * @module
 */

import { EnvironmentError, UsageError } from "../util/errors.ts";
import { type DatasetName, FASHION_DIR } from "../data/datasets.ts";

const ICD_DIRS = [
  "/usr/share/vulkan/icd.d",
  "/etc/vulkan/icd.d",
  "/usr/local/share/vulkan/icd.d",
  "/usr/local/nvidia/share/vulkan/icd.d",
];

/** True when `dir` holds a file whose name ends in `suffix`. */
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

/** True when apt-get can install here (Debian, as root). */
function canApt(): boolean {
  try {
    return Deno.statSync("/usr/bin/apt-get").isFile && Deno.uid() === 0;
  } catch {
    return false;
  }
}

/** Runs a shell command, printing it first; a failure is an `EnvironmentError`. */
async function sh(command: string): Promise<void> {
  console.error(`setup: ${command}`);
  const status = await new Deno.Command("sh", {
    args: ["-c", command],
    stdout: "inherit",
    stderr: "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).spawn().status;
  if (!status.success) {
    throw new EnvironmentError(`"${command}" failed (exit ${status.code})`);
  }
}

/**
 * The archive URI that this machine's apt sources use for Debian `suite` (one-line `deb URI
 * SUITE …` entries and deb822 `.sources` stanzas), so backports come from the same mirror.
 */
export function debianArchiveFor(sourcesTexts: string[], suite: string): string | undefined {
  for (const text of sourcesTexts) {
    for (const line of text.split("\n")) {
      const m = line.trim().match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/);
      if (m && m[2] === suite) return m[1];
    }
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name: string) =>
        stanza.match(new RegExp(`^${name}:\\s*(.+)$`, "mi"))?.[1].trim().split(/\s+/) ?? [];
      if (!field("Types").includes("deb") || !field("Suites").includes(suite)) continue;
      if (field("Enabled")[0] === "no") continue;
      const uri = field("URIs")[0];
      if (uri) return uri;
    }
  }
  return undefined;
}

/** The texts of this machine's apt source lists. */
function aptSourcesTexts(): string[] {
  const texts: string[] = [];
  const read = (path: string) => {
    try {
      texts.push(Deno.readTextFileSync(path));
    } catch {
      // missing
    }
  };
  read("/etc/apt/sources.list");
  try {
    for (const entry of Deno.readDirSync("/etc/apt/sources.list.d")) {
      if (/\.(list|sources)$/.test(entry.name)) read(`/etc/apt/sources.list.d/${entry.name}`);
    }
  } catch {
    // missing folder
  }
  return texts;
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
    const texts = aptSourcesTexts();
    if (debianArchiveFor(texts, "bookworm-backports") === undefined) {
      const archive = debianArchiveFor(texts, "bookworm");
      if (archive === undefined) {
        throw new EnvironmentError(
          "no apt source for Debian bookworm in /etc/apt; add one, or install mesa-vulkan-drivers",
        );
      }
      // Backports from the mirror this machine already uses for bookworm.
      await sh(
        `echo 'deb ${archive} bookworm-backports main' > /etc/apt/sources.list.d/wgprune-backports.list`,
      );
    }
  }
  await sh("apt-get update -qq");
  for (const pkg of missing) {
    const fromBackports = bookworm && pkg === "mesa-vulkan-drivers" ? "-t bookworm-backports " : "";
    await sh(`apt-get install -y -qq ${fromBackports}${pkg} > /dev/null`);
  }
}

/** Debian's package of each dataset that one provides, and where it puts its files. */
const DATASET_PACKAGES: Partial<Record<DatasetName, { pkg: string; dir: string }>> = {
  fashion: { pkg: "dataset-fashion-mnist", dir: FASHION_DIR },
};

/**
 * Installs the Debian package of `dataset` when it has one and it is missing (as `ensureSystem`
 * installs the driver): with apt-get as root on Debian, else a one-line error naming the command.
 */
export async function ensureDatasetInstalled(dataset: DatasetName): Promise<void> {
  const source = DATASET_PACKAGES[dataset];
  if (!source || hasEntries(source.dir, ".gz") || hasEntries(source.dir, "-ubyte")) return;
  if (!canApt()) {
    throw new UsageError(
      `--dataset ${dataset} needs Debian's ${source.pkg}: install it with \`sudo apt-get install ${source.pkg}\`, or pass --data-dir DIR`,
    );
  }
  await sh("apt-get update -qq");
  await sh(`apt-get install -y -qq ${source.pkg} > /dev/null`);
}
