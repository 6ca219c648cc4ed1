/// <reference lib="dom" />
/**
 * The browser app's entry: boots (src/web/boot.ts), then wires the four panels to one shared
 * state. `globalThis.wgpruneApp` holds that state (and `ready`, settled once booted) for the
 * tests that drive the page in headless Chromium.
 *
 * @module
 */

import { boot } from "./boot.ts";
import { AppState, messageOf, showStatus } from "./state.ts";
import { trainPanel } from "./train_panel.ts";
import { openPanel } from "./open_panel.ts";
import { prunePanel } from "./prune_panel.ts";
import { drawPanel } from "./draw_panel.ts";

/** What the page exposes for its tests. */
export interface AppGlobal {
  /** The app. */
  wgpruneApp: { ready: Promise<AppState> };
}

/** Boots and wires the panels. */
async function start(): Promise<AppState> {
  try {
    const { gpu, data } = await boot((line) => showStatus("status", line));
    const state = new AppState(gpu, data);
    trainPanel(state);
    openPanel(state);
    prunePanel(state);
    drawPanel(state);
    showStatus(
      "status",
      `Ready: WebGPU on ${gpu.adapter}; MNIST ${data.train.count} training, ` +
        `${data.valid.count} validation and ${data.test.count} test images, all in this page.`,
    );
    return state;
  } catch (err) {
    showStatus("status", messageOf(err), true);
    throw err;
  }
}

(globalThis as unknown as AppGlobal).wgpruneApp = { ready: start() };
