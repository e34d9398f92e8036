"""Many candidates in fused chunks: how many go in one, and what happens when one runs out of memory.

:meth:`Training.evaluate_many <nasviz.estimators.Training.evaluate_many>` trains
candidates in chunks of :func:`chunk_size` (from an estimate of a candidate's
activation memory); a chunk that runs out of memory is retried in halves by
:func:`run_in_halves`, down to single candidates, which then fail.
"""

from __future__ import annotations

from ..devices import is_out_of_memory
from .base import Result

__all__ = ["CPU_MAX_BATCH", "CPU_MEMORY_BUDGET", "chunk_size", "run_in_halves"]

CPU_MEMORY_BUDGET = 1 << 30  # bytes of activations a fused chunk may use on CPU
CPU_MAX_BATCH = 32  # more candidates per chunk than this does not run faster on CPU, and costs memory


def chunk_size(per_candidate: int, device) -> int:
    """Candidates per chunk when each needs ``per_candidate`` bytes of activations on ``device``
    (a ``torch.device``): within half the free memory on a GPU (at most 4096), within
    :data:`CPU_MEMORY_BUDGET` and at most :data:`CPU_MAX_BATCH` on CPU; at least 1."""
    if device.type == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        return int(max(1, min(4096, free // 2 // per_candidate)))
    return int(max(1, min(CPU_MAX_BATCH, CPU_MEMORY_BUDGET // per_candidate)))


def run_in_halves(cands, train, alone) -> list[Result]:
    """``train(cands)``, one Result per candidate; out of memory: retry in halves down to single
    candidates, which then fail; any other error: ``alone(cand)`` for each, so that it fails alone."""
    try:
        return train(cands)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:  # noqa: BLE001 - out of memory: retry smaller; anything else: one at a time
        if not is_out_of_memory(err):  # something else went wrong: one at a time, so that it fails alone
            return [alone(c) for c in cands]
        _free_cuda_cache()
        if len(cands) == 1:
            return [Result.failed(f"out of memory training this candidate: {err}")]
        half = len(cands) // 2
        return run_in_halves(cands[:half], train, alone) + run_in_halves(cands[half:], train, alone)


def _free_cuda_cache():
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
