"""How close a half-precision export (fp16, bf16) must come to the fp32 reference, set from what half
precision does in torch itself, and the ranking check that goes with it. Used by export_onnx.py.

A half-precision forward differs from fp32 by its own rounding, which grows with depth and with the
scores' size: a fixed budget either fails correct exports of deep models or passes broken ones of
shallow models. So the export measures torch's own half forward of the same checkpoint on the same
rows (Hugging Face's classifier loaded in that dtype, against fp32) and accepts ONNX Runtime's half
graph within HALF_TOLERANCE_FACTOR times that, never below the dtype's own spacing at the largest
score. Measured on the test checkpoint (2-layer Qwen3 shape, random weights, CPU, ONNX Runtime 1.30):
torch fp16 max |half - fp32| 0.0051, ONNX Runtime fp16 (CPU provider) 0.0060, a ratio of 1.17; the two
half forwards differ from each other by 0.0085, as two independent roundings of that size can. The
factor 3 leaves room for kernels that round in other places (CUDA's flash attention) without letting
through an error of a new kind, which shows up as many times the rounding.

Rounding can swap two candidates whose scores are closer than it. The ranking check therefore asks
that every pair of candidates of a best-of-N group whose fp32 scores differ by more than twice
torch's own half error (a gap half precision cannot close) keeps its order in the ONNX graph, and
reports the share of all pairs in fp32 order and whether the best candidate stayed first, for torch's
half forward and for the graph alike.
"""
from __future__ import annotations

import math

HALF_DTYPES = {"fp16": "float16", "bf16": "bfloat16"}
HALF_TOLERANCE_FACTOR = 3.0
#: Spacing of 1.0 in each format (2^-10 for fp16's 10 mantissa bits, 2^-7 for bf16's 7).
EPSILON = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}
#: Best-of-N groups for the ranking check: (question of CHECK_PAIRS, candidate codes of CHECK_PAIRS).
RANKING_GROUPS = [(2, [0, 1, 2, 3, 4, 5, 6]), (5, [0, 1, 2, 3, 4, 5, 6])]


def max_abs_diff(got: list[list[float]], want: list[list[float]]) -> float:
    """Largest |got - want| over batches of scores; infinite for a NaN or a missing score."""
    worst = 0.0
    for row_got, row_want in zip(got, want, strict=True):
        for a, b in zip(row_got, row_want, strict=True):
            if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
                return math.inf
            worst = max(worst, abs(a - b))
    return worst


def tolerance(reference: list[list[float]], torch_half: list[list[float]], dtype_name: str) -> dict:
    """The accepted |onnx - torch fp32| for a half export, with the figures it came from."""
    own = max_abs_diff(torch_half, reference)
    largest = max(abs(v) for row in reference for v in row)
    spacing = EPSILON[dtype_name] * max(1.0, largest)
    return {
        "tolerance": max(HALF_TOLERANCE_FACTOR * own, spacing),
        "torch_half_max_abs_diff": own if math.isfinite(own) else None,
        "rule": f"max({HALF_TOLERANCE_FACTOR:g} x torch's own {dtype_name} error, {dtype_name} spacing at the largest score {spacing:.3g})",
    }


def ranking_agreement(reference: list[float], got: list[float], decided_gap: float) -> dict:
    """How `got` orders one group's candidates against the fp32 `reference`."""
    pairs = [(i, j) for i in range(len(reference)) for j in range(i + 1, len(reference))]
    same = [(i, j) for i, j in pairs if (reference[i] - reference[j]) * (got[i] - got[j]) > 0]
    decided = [(i, j) for i, j in pairs if abs(reference[i] - reference[j]) > decided_gap]
    flipped = [[i, j] for i, j in decided if (i, j) not in same]
    best = max(range(len(reference)), key=lambda k: reference[k])
    return {
        "pairs_in_order": f"{len(same)}/{len(pairs)}",
        "decided_pairs": len(decided),
        "decided_pairs_flipped": flipped,
        "best_stays_first": max(range(len(got)), key=lambda k: got[k]) == best,
    }


def ranking_check(reference: list[list[float]], torch_half: list[list[float]], onnx: list[list[float]]) -> dict:
    """Per group: torch's half forward and the ONNX graph against fp32; passes when no decided pair flips in the graph."""
    decided_gap = 2 * max_abs_diff(torch_half, reference)
    groups = [{"torch_half": ranking_agreement(ref, half, decided_gap), "onnx": ranking_agreement(ref, got, decided_gap)}
              for ref, half, got in zip(reference, torch_half, onnx, strict=True)]
    return {
        "decided_gap": decided_gap if math.isfinite(decided_gap) else None,
        "groups": groups,
        "passed": math.isfinite(decided_gap) and all(not g["onnx"]["decided_pairs_flipped"] for g in groups),
    }
