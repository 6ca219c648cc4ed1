/**
 * What the browser bundle gets for `node:crypto`: the one call wgprune makes,
 * `createHash("sha256").update(bytes).digest("hex")`, on @noble/hashes' SHA-256.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** A SHA-256 hash in progress, with node's `update` / `digest("hex")` calls. */
export function createHash(algorithm: string) {
  if (algorithm !== "sha256") throw new Error(`createHash: only sha256 here, not ${algorithm}`);
  const hash = sha256.create();
  const self = {
    update(data: Uint8Array | string) {
      hash.update(typeof data === "string" ? new TextEncoder().encode(data) : data);
      return self;
    },
    digest(encoding: "hex") {
      if (encoding !== "hex") throw new Error(`digest: only hex here, not ${encoding}`);
      return bytesToHex(hash.digest());
    },
  };
  return self;
}
