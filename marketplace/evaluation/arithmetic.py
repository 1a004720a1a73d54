"""The evaluation arithmetic, kept pure so it can be checked by hand.

A proposal's weighted total is Σ weight × (mean score ÷ scale) ÷ Σ weight, in points out of 100.
Each evaluator's own total is computed the same way from their scores alone; the spread is the
highest minus the lowest of those totals (evaluators who scored every criterion)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Crit:
    key: str
    weight: int
    scale_max: int


def weighted_total(criteria: list[Crit], values: dict[str, float]) -> float:
    """Points out of 100 for one set of per-criterion values (a missing criterion counts 0)."""
    total_weight = sum(c.weight for c in criteria)
    if total_weight == 0:
        return 0.0
    return round(100 * sum(c.weight * values.get(c.key, 0) / c.scale_max for c in criteria) / total_weight, 2)


def summarise(criteria: list[Crit], scores: Iterable[tuple[str, str, int]]) -> dict:
    """From (evaluator, criterion, value) rows of one proposal: the means, the total, the spread."""
    by_evaluator: dict[str, dict[str, int]] = {}
    for evaluator, criterion, value in scores:
        by_evaluator.setdefault(evaluator, {})[criterion] = value
    keys = {c.key for c in criteria}
    means: dict[str, float | None] = {}
    for c in criteria:
        given = [v[c.key] for v in by_evaluator.values() if c.key in v]
        means[c.key] = round(sum(given) / len(given), 2) if given else None
    complete_sets = [v for v in by_evaluator.values() if keys <= set(v)]
    totals = [weighted_total(criteria, v) for v in complete_sets]
    return {
        "means": means,
        "weighted_total": weighted_total(criteria, {k: m for k, m in means.items() if m is not None}),
        "spread": round(max(totals) - min(totals), 2) if len(totals) > 1 else 0.0,
        "evaluators": len(by_evaluator),
        "complete": bool(by_evaluator) and all(m is not None for m in means.values()),
    }


def competition_ranks(totals: list[float]) -> list[int]:
    """1, 1, 3 style ranks for totals already sorted from best to worst."""
    ranks: list[int] = []
    for i, t in enumerate(totals):
        ranks.append(ranks[-1] if i and t == totals[i - 1] else i + 1)
    return ranks
