#!/usr/bin/env bash
# A Slurm job array: 8 tasks, task k explains shard k/8 (nativeig reads SLURM_ARRAY_TASK_ID and
# SLURM_ARRAY_TASK_COUNT itself). Submit with: sbatch docs/scale-out/slurm-array.sh /shared/photos /shared/ig-out
# then, when all tasks are done: nativeig merge /shared/ig-out
#SBATCH --job-name=nativeig
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --mem=3G
#SBATCH --time=02:00:00
#SBATCH --signal=TERM@60
set -euo pipefail
photos=${1:?photos folder}
out=${2:?output folder}
# With the container (Apptainer/Singularity from the Docker image) or the .NET tool on the nodes:
exec nativeig explain "$photos" --out "$out" --threads "${SLURM_CPUS_PER_TASK:-4}" --quiet
