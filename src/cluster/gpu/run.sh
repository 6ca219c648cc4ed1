#!/usr/bin/env bash
# Runs the GPU check on a machine that reaches no package registry, from what pack.sh put in
# .device/: unpacks Deno, the Vulkan loader (when the machine has none) and node_modules, points
# the loader at NVIDIA's Vulkan driver when no manifest names it, then runs deno task gpu-check.
#   bash src/cluster/gpu/run.sh OUT_FILE [gpu-check flags...]
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=${1:?usage: run.sh OUT_FILE [flags]}
shift
work=$(mktemp -d /tmp/wgprune-gpu.XXXXXX)

xz -dc .device/deno.xz > "$work/deno"
chmod +x "$work/deno"

if ! ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
  dpkg -x .device/libvulkan1_*.deb "$work/root"
  export LD_LIBRARY_PATH="$work/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# NVIDIA's Vulkan driver lives in libGLX_nvidia.so.0; container runtimes mount the library but not
# always its manifest.
have_icd=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | head -1 || true)
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -z "$have_icd" ]; then
  lib=$(ldconfig -p | sed -n 's/.*libGLX_nvidia\.so\.0 .*=> //p' | head -1)
  if [ -n "$lib" ]; then
    printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' \
      "$lib" > "$work/nvidia_icd.json"
    export VK_DRIVER_FILES="$work/nvidia_icd.json"
  fi
fi

rm -rf node_modules
tar -xJf .device/node_modules.tar.xz
export DENO_DIR="$work/deno_dir" DENO_NO_UPDATE_CHECK=1 DENO_WEBGPU_BACKEND=vulkan
"$work/deno" run --node-modules-dir=manual --allow-all src/cli/gpu_check.ts --out "$out" \
  --node-modules-dir manual "$@"
