/**
 * The flag reference (src/cli/README.md) against the tasks' help: for every task of deno.json that
 * runs a script of src/cli/, the section `### deno task <task>` names exactly the `--flag`s that
 * `--help` prints, no more and no fewer. A section may take another section's flags with a
 * paragraph that starts "Also takes every flag of" and links to it (`[…](#experiment-flags)`).
 */

import { assert, assertEquals } from "./_assert.ts";
import { runCli } from "./_cli.ts";

const ROOT = new URL("../", import.meta.url);
const REFERENCE = "src/cli/README.md";
const INCLUDE = "Also takes every flag of";

/** Every `--flag` name in `text` (not `---` rules, not a flag inside a longer word). */
function flagsIn(text: string): Set<string> {
  return new Set(text.match(/(?<![\w-])--[a-z0-9][a-z0-9-]*/g) ?? []);
}

/** A heading's anchor as the Markdown renderers make it: `deno task gpu-check` → `deno-task-gpu-check`. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");
}

/** The `###` sections of the reference by anchor: the text up to the next heading of level ≤ 3. */
function sectionsOf(markdown: string): Map<string, string> {
  const sections = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  const close = () => {
    if (current !== undefined) sections.set(current, lines.join("\n"));
  };
  let fence = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fence = !fence;
    const heading = fence ? null : line.match(/^(#{1,3}) (.*)$/);
    if (heading) {
      close();
      current = heading[1] === "###" ? anchorOf(heading[2]) : undefined;
      lines = [];
    } else lines.push(line);
  }
  close();
  return sections;
}

/** The flags a section names, with those of the sections it takes every flag of. */
function sectionFlags(
  sections: Map<string, string>,
  anchor: string,
  seen = new Set<string>(),
): Set<string> {
  const text = sections.get(anchor);
  if (text === undefined) throw new Error(`${REFERENCE} has no section #${anchor}`);
  if (seen.has(anchor)) throw new Error(`${REFERENCE}: #${anchor} takes its own flags in a loop`);
  seen.add(anchor);
  const flags = flagsIn(text);
  for (const paragraph of text.split(/\n\s*\n/)) {
    if (!paragraph.trim().startsWith(INCLUDE)) continue;
    for (const [, linked] of paragraph.matchAll(/\]\(#([\w-]+)\)/g)) {
      for (const f of sectionFlags(sections, linked, new Set(seen))) flags.add(f);
    }
  }
  return flags;
}

/** Tasks of deno.json whose last command runs `src/cli/<script>.ts`: task name → script. */
async function cliTasks(): Promise<Map<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const tasks = new Map<string, string>();
  for (const [name, command] of Object.entries(config.tasks as Record<string, string>)) {
    const last = command.split("&&").at(-1) ?? "";
    const script = last.match(/src\/cli\/(\w+)\.ts/)?.[1];
    if (script) tasks.set(name, script);
  }
  return tasks;
}

const TASKS = await cliTasks();
const SECTIONS = sectionsOf(await Deno.readTextFile(new URL(REFERENCE, ROOT)));

Deno.test("the flag reference has a section for every task and names no task that is gone", () => {
  assert(TASKS.size >= 10, `only ${TASKS.size} tasks of deno.json run a src/cli/ script`);
  const missing = [...TASKS.keys()].filter((t) => !SECTIONS.has(anchorOf(`deno task ${t}`)));
  assertEquals(missing, [], `${REFERENCE}: tasks without a "### deno task <task>" section`);
  const stale = [...SECTIONS.keys()].filter((a) =>
    a.startsWith("deno-task-") && !TASKS.has(a.slice("deno-task-".length))
  );
  assertEquals(stale, [], `${REFERENCE}: sections of tasks deno.json does not have`);
});

for (const [task, script] of TASKS) {
  Deno.test(`deno task ${task}: the reference names exactly the flags of --help`, async () => {
    const result = await runCli(script, ["--help"]);
    assertEquals(result.code, 0, `src/cli/${script}.ts --help (stderr: ${result.stderr})`);
    const help = flagsIn(`${result.stdout}\n${result.stderr}`);
    assert(help.size > 0, `src/cli/${script}.ts --help prints no --flag`);
    const documented = sectionFlags(SECTIONS, anchorOf(`deno task ${task}`));
    const undocumented = [...help].filter((f) => !documented.has(f)).sort();
    const notInHelp = [...documented].filter((f) => !help.has(f)).sort();
    assertEquals(
      undocumented,
      [],
      `${REFERENCE}, "### deno task ${task}": missing ${
        undocumented.join(", ")
      } (printed by --help)`,
    );
    assertEquals(
      notInHelp,
      [],
      `${REFERENCE}, "### deno task ${task}": names ${
        notInHelp.join(", ")
      }, which --help does not print`,
    );
  });
}
