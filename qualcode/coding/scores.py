"""Rule scores as probabilities: the one mapping the model, the review queue and the app share.

Kept apart from the model so reading the queue needs numpy only (no scipy or scikit-learn).
"""
from __future__ import annotations

import numpy as np

_EPS = 1e-6


def rule_prior(scores: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Scores mapped piecewise-linearly so each code's cut (min_score, or a threshold) lands on 0.5.

    Thresholding the result at 0.5 gives exactly the decision ``score >= cut``."""
    scores = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    cuts = np.asarray(cuts, dtype=float)
    low = scores / (2 * cuts)
    high = 0.5 + 0.5 * (scores - cuts) / np.maximum(1 - cuts, _EPS)
    return np.where(scores < cuts, low, np.minimum(high, 1.0))
