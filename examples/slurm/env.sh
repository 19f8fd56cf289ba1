# Settings shared by extract.sbatch and analyse.sbatch; edit for your cluster.
# The codes cache must be on a file system every node sees (entries are written atomically:
# temp file, fsync, rename in the same folder, so NFS and Lustre are fine).
export SOMSCOPE_CACHE="${SOMSCOPE_CACHE:-/shared/somscope-cache}"
# Where relative paths in the config (e.g. "out") are resolved.
export SOMSCOPE_WORKDIR="${SOMSCOPE_WORKDIR:-${SLURM_SUBMIT_DIR:-$PWD}}"
export SOMSCOPE_CONFIG="${SOMSCOPE_CONFIG:-$SOMSCOPE_WORKDIR/run.json}"
# The CLI: a checkout run by deno, or the binary of `deno task compile`.
export SOMSCOPE="${SOMSCOPE:-deno run -A $HOME/somscope/tasks/somscope.ts}"
# Mesa/WebGPU wants a private runtime folder.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
