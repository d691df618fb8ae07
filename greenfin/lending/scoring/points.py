"""How a scorecard's points are scaled, and its scored rows."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np


@dataclass
class Scaling:
    base_points: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def as_dict(self) -> dict:
        return {"base_points": self.base_points, "base_odds": self.base_odds, "pdo": self.pdo}


@dataclass
class ScoreResult:
    """Scored rows. The reason codes are kept as ranks into the compiled card's reason table
    (``reasons``): a rank names one (feature, bin) and the points it loses, most points lost
    first; ``reason_idx`` and ``reason_loss`` read them out when asked for."""

    score: np.ndarray  # rounded points (int)
    raw_score: np.ndarray
    pd: np.ndarray
    bin_idx: np.ndarray  # (n, k) bin per feature, -1 = missing (small ints from the fast path)
    reason_rank: np.ndarray  # (n, 4) reason ranks, smallest (most points lost) first
    reasons: Any = field(repr=False)  # the compiled card (``compiled.CompiledScorecard``): its reason table

    @cached_property
    def reason_idx(self) -> np.ndarray:
        """(n, 4) feature index of each reason, -1 = none."""
        return self.reasons.rank_feature.take(self.reason_rank)

    @cached_property
    def reason_loss(self) -> np.ndarray:
        """(n, 4) points lost by each reason, 0 = none."""
        return self.reasons.rank_loss.take(self.reason_rank)
