#!/usr/bin/env bash
# Submits a wgprune study to Slurm as three dependent jobs and prints their ids:
#   train (one job) → sweep (an array of TASKS tasks, after train succeeds) → merge (after every
#   sweep task succeeds).
#
#   src/cluster/slurm/submit.sh TASKS [grid and sweep flags ...]
#   src/cluster/slurm/submit.sh 4 --seeds 0,1,2 --method weight,unit --k 50,90,95
#
# Run it from the repository root (the jobs start there). Extra sbatch options go in
# SBATCH_EXTRA, e.g. SBATCH_EXTRA="--partition=gpu --gres=gpu:1"; DENO names the deno binary;
# job logs go to LOGS (default results/slurm-logs).
set -euo pipefail
if [[ $# -lt 1 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 TASKS [grid and sweep flags ...] (TASKS: sweep array size, >= 1)" >&2
  exit 2
fi
tasks=$1
shift
here=$(dirname "$0")
logs=${LOGS:-results/slurm-logs}
mkdir -p "$logs"
# shellcheck disable=SC2086 # SBATCH_EXTRA holds several options
train=$(sbatch --parsable ${SBATCH_EXTRA:-} --output="$logs/train-%j.out" \
  "$here/train.sbatch" "$@")
# shellcheck disable=SC2086
sweep=$(sbatch --parsable ${SBATCH_EXTRA:-} --array=0-$((tasks - 1)) \
  --output="$logs/sweep-%A_%a.out" --dependency=afterok:"$train" "$here/sweep.sbatch" "$@")
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_EXTRA:-} --output="$logs/merge-%j.out" \
  --dependency=afterok:"$sweep" "$here/merge.sbatch" "$@")
echo "train $train sweep $sweep merge $merge"
