#!/usr/bin/env bash
# Runs the three Jobs in order on the current kubectl context (Kubernetes has no job
# dependencies): the volume and the study, training, then the sweep, then the merge, each
# waited for.
#   src/cluster/k8s/run.sh [timeout, default 24h]
set -euo pipefail
here=$(dirname "$0")
timeout=${1:-24h}
kubectl apply -f "$here/results-pvc.yaml" -f "$here/study-configmap.yaml"
for stage in train sweep merge; do
  kubectl apply -f "$here/$stage-job.yaml"
  kubectl wait --for=condition=complete "job/wgprune-$stage" --timeout="$timeout"
done
echo "done: results are on the wgprune-results volume"
