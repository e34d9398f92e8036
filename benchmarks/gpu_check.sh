#!/usr/bin/env bash
# nasviz on a CUDA GPU, in one run (about 5 minutes on one H200): CPU/CUDA agreement of training and of the
# zero-cost proxies, peak memory (benchmarks/gpu_check.py), then fused training against a plain CUDA loop at
# N = 64, 256 and 1,024 candidates with the share of the card's float32 matmul peak
# (benchmarks/batched_training.py; the plain loop is timed on 16 cells and scaled).
#
# Usage, from the repository root on a machine with an NVIDIA GPU and PyTorch:
#     bash benchmarks/gpu_check.sh            # log in gpu_check.log, or in $OUT/ when OUT is set
set -uo pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_WAIT_POLICY=PASSIVE
py=${PYTHON:-python3}
log=${OUT:-.}/gpu_check.log
status=0
exec > >(tee "$log") 2>&1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
$py -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
$py benchmarks/gpu_check.py --cells 32 --seeds 4 || status=1
for n in 64 256 1024; do
  echo "=== fused vs plain CUDA loop, N=$n"
  $py benchmarks/batched_training.py --device cuda --n "$n" --plain-n 16 --threads 1 \
      --channels 8 --epochs 4 --batch-size 64 --max-batch "$n" || status=1
done
exit $status
