#!/usr/bin/env bash
# A study as a Slurm job array: one task per shard; each task's SLURM_ARRAY_TASK_ID is the worker's
# shard index. Submit with `sbatch deploy/slurm/epcloud-array.sh s3://my-bucket/study-001`.
# No keys here: on AWS ParallelCluster the nodes' instance profile gives the credentials; elsewhere a
# profile in ~/.aws/config (AWS_PROFILE, SSO or a credential process) does.
#SBATCH --job-name=epcloud-study
#SBATCH --array=0-99%20
#SBATCH --cpus-per-task=1
#SBATCH --mem=2G
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --signal=B:TERM@120
#SBATCH --output=epcloud-%A_%a.out
set -uo pipefail

store="${1:?give the study store, e.g. s3://my-bucket/study-001}"
max_restarts="${EPCLOUD_MAX_RESTARTS:-3}"
retry_exit_codes=(143)   # the worker stopped cleanly by SIGTERM: run the task again

# Slurm signals the batch shell (--signal=B:TERM, 120 s before the time limit); pass it on to the
# worker so that it finishes the job in hand and exits 143.
epcloud worker "$store" -j "${SLURM_CPUS_PER_TASK:-1}" &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null' TERM
wait "$worker"
code=$?
if ((code > 128)) && kill -0 "$worker" 2>/dev/null; then  # `wait` returned for the trap: wait again
    wait "$worker"
    code=$?
fi

for retry in "${retry_exit_codes[@]}"; do
    if ((code == retry)) && (("${SLURM_RESTART_COUNT:-0}" < max_restarts)); then
        echo "worker exited $code: requeueing task ${SLURM_ARRAY_TASK_ID} (restart ${SLURM_RESTART_COUNT:-0})" >&2
        scontrol requeue "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}" && exit 0
    fi
done
exit "$code"
