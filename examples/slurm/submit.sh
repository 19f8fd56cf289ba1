#!/bin/bash
# Submits the extraction job array and, depending on all of it, the analysis job.
# Usage: examples/slurm/submit.sh [SHARDS]   (run from the folder holding run.json and env.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shards="${1:-16}"
mkdir -p logs
codes=$(sbatch --parsable --array="0-$((shards - 1))" "$here/extract.sbatch")
analyse=$(sbatch --parsable --dependency="afterok:${codes%%;*}" "$here/analyse.sbatch")
echo "extraction array: $codes ($shards shards); analysis: $analyse (after the array)"
