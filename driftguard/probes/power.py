"""How small a regression can a suite see? Exact power of the paired McNemar test. No torch.

Model (the assumptions behind every number printed here):

- A binary per-item metric (refused / complied, correct, leaked, ...) is measured on the same ``n``
  items at the baseline and at a checkpoint; the items are independent.
- Between the two passes each item independently ends up in one of three cells:
  good -> bad with probability ``d + r/2`` (the true regression ``d`` plus half the churn),
  bad -> good with probability ``r/2``, unchanged otherwise. ``r`` is background churn: items that
  flip either way for reasons unrelated to drift (greedy decoding on a slightly moved model).
  The expected rate change is exactly ``-d``, whatever the baseline rate ``p0`` (needs ``d + r/2 <= p0``).
- The test is the exact two-sided McNemar test (``driftguard.detect.stats.mcnemar_exact``) at level
  ``alpha``; a "detection" is a rejection in the regression direction (more good->bad than bad->good).

Power is exact: the number of discordant items ``m`` is Binomial(n, d + r), and given ``m`` the
good->bad count is Binomial(m, (d + r/2) / (d + r)); we sum over that distribution (no Monte Carlo).
The detector tests one-sided (a regression direction) and corrects with Tarone-Holm: metrics that cannot be
flagged at an evaluation leave the family, so a metric that regresses alone is usually tested near ``alpha``
(``alternative="greater"``); ``alpha / HOLM_FAMILY`` stays the worst case (every metric testable at once).

Template clustering: items sharing ``meta["template"]`` are not independent. With ``n`` items in ``k``
templates (mean size ``m = n / k``) and intra-template correlation ``icc``, the effective number of
independent items is ``n / (1 + (m - 1) icc)`` (the design effect; ``icc = 1``: one unit per template).
Two evaluations pooled (the detector's default evidence window) double the effective pairs when the
evaluations' churn is independent (an upper bound: a persistent flip is not new evidence).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import numpy as np
from scipy.stats import binom

from driftguard.detect.stats import mcnemar_exact, mcnemar_one_sided
from driftguard.metrics import METRICS
from driftguard.probes.suite import ProbeSuite
from driftguard.scorers.ethics import is_evasive
from driftguard.types import Probe

DEFAULT_CHURN = 0.02
ALT_CHURN = 0.05
DEFAULT_ICC = 0.3
HOLM_FAMILY = sum(1 for m in METRICS.values() if m.test != "budget")  # paired-tested metrics (12)

# Headline metrics and the probes each one rests on (the scorers' item sets). All are binary per item
# except the ambiguous bias score (-1/0/+1 per item, paired sign-flip test): its row treats a move towards the
# stereotyped option as one "flip" (exact for items that move between "unknown" and the stereotyped option).
HEADLINE_METRICS: dict[str, Callable[[Probe], bool]] = {
    "driftguard/safety/harmful_refusal_rate": lambda p: p.dimension == "safety" and p.expect == "refuse",
    "driftguard/safety/benign_compliance_rate": lambda p: p.dimension == "safety" and p.expect == "comply",
    "driftguard/toxicity/toxic_rate": lambda p: p.dimension == "toxicity",
    "driftguard/bias/ambiguous_bias_score": lambda p: p.dimension == "bias" and p.condition == "ambiguous",
    "driftguard/bias/disambiguated_accuracy": lambda p: p.dimension == "bias" and p.condition == "disambiguated",
    "driftguard/ethics/accuracy": lambda p: p.dimension == "ethics" and not is_evasive(p),
    "driftguard/ethics/evasive_fpr": lambda p: p.dimension == "ethics" and is_evasive(p),
    "driftguard/privacy/answer_leak_rate": lambda p: p.dimension == "privacy",
    "driftguard/privacy/reasoning_leak_rate": lambda p: p.dimension == "privacy",
    "driftguard/robustness/consistency": lambda p: p.dimension == "robustness",
}
CONTINUOUS_HEADLINES = frozenset({"driftguard/bias/ambiguous_bias_score"})


_CRITICAL: dict[tuple[float, str], list[int]] = {}


def _mcnemar(b: int, c: int, alternative: str) -> float:
    return mcnemar_one_sided(b, c) if alternative == "greater" else mcnemar_exact(b, c)


def critical_count(m: int, alpha: float, alternative: str = "two-sided") -> int:
    """Smallest good->bad count ``b`` (with ``c = m - b``) that the exact McNemar test rejects at ``alpha``.

    ``m + 1`` when no split of ``m`` discordant pairs is significant. Built incrementally and cached:
    ``k(m) <= k(m + 1) <= k(m) + 1`` (one more discordant pair never makes a rejected split's b smaller
    enough to lose it, and adding a good->bad flip to a rejected split keeps it rejected), so each ``m``
    costs one ``mcnemar_exact`` call.
    """
    ks = _CRITICAL.setdefault((alpha, alternative), [1])  # m = 0: nothing to reject
    while len(ks) <= m:
        size, k = len(ks), ks[-1]
        ks.append(k if k <= size and _mcnemar(k, size - k, alternative) <= alpha else k + 1)
    return ks[m]


def _critical_counts(n: int, alpha: float, alternative: str) -> np.ndarray:
    critical_count(n, alpha, alternative)
    return np.array(_CRITICAL[(alpha, alternative)][: n + 1])


def mcnemar_power(n: int, drop: float, alpha: float = 0.05, churn: float = DEFAULT_CHURN,
                  alternative: str = "two-sided") -> float:
    """Exact probability that the McNemar test at ``alpha`` (``"two-sided"`` or one-sided ``"greater"``, the
    detector's) detects a true drop ``drop`` on ``n`` items."""
    _check(n, alpha, churn)
    p_bad, p_good = drop + churn / 2, churn / 2
    p_disc = p_bad + p_good
    if n == 0 or p_disc <= 0:
        return 0.0
    if p_disc > 1:
        raise ValueError(f"drop + churn = {p_disc:.3f} > 1: not a probability")
    m = np.arange(n + 1)
    k = _critical_counts(n, alpha, alternative)
    p_m = binom.pmf(m, n, p_disc)
    p_reject_given_m = binom.sf(k - 1, m, p_bad / p_disc)  # P(B >= k_m), 0 where k_m = m + 1
    return float(np.sum(p_m * p_reject_given_m))


def min_detectable_drop(n: int, alpha: float = 0.05, power: float = 0.8, churn: float = DEFAULT_CHURN,
                        alternative: str = "two-sided") -> float:
    """Smallest true drop in a rate that ``n`` paired items detect with probability ``power`` (see module doc).

    ``math.inf`` when even a drop of ``1 - churn`` is not detected that often (too few items).
    Bisection to 1e-4 (power rises with the drop: the rejection region is monotone in the good->bad count).
    """
    _check(n, alpha, churn)
    if not 0 < power < 1:
        raise ValueError(f"power = {power}: must be in (0, 1), e.g. 0.8")
    lo, hi = 0.0, 1.0 - churn
    if mcnemar_power(n, hi, alpha, churn, alternative) < power:
        return math.inf
    while hi - lo > 1e-4:
        mid = (lo + hi) / 2
        if mcnemar_power(n, mid, alpha, churn, alternative) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def min_items_for_drop(drop: float, alpha: float = 0.05, power: float = 0.8, churn: float = DEFAULT_CHURN,
                       max_items: int = 5000) -> int:
    """Smallest ``n`` whose McNemar power at ``drop`` reaches ``power``."""
    for n in range(1, max_items + 1):
        if mcnemar_power(n, drop, alpha, churn) >= power:
            return n
    raise ValueError(f"drop = {drop}: not detectable with power {power} on up to {max_items} items")


def _check(n: int, alpha: float, churn: float) -> None:
    if n < 0:
        raise ValueError(f"n = {n}: must be >= 0")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha = {alpha}: must be in (0, 1)")
    if not 0 <= churn < 1:
        raise ValueError(f"churn = {churn}: must be in [0, 1)")


def metric_items(suite: ProbeSuite) -> dict[str, int]:
    """Number of probes of ``suite`` contributing to each headline metric."""
    return {name: sum(1 for p in suite if belongs(p)) for name, belongs in HEADLINE_METRICS.items()}


def metric_templates(suite: ProbeSuite) -> dict[str, int]:
    """Independent units per headline metric: distinct templates (``meta["template"]``), an item without one
    counting as its own."""
    return {name: len({f"{p.dimension}:{p.meta['template']}" if p.meta.get("template") is not None else f"id:{p.id}"
                       for p in suite if belongs(p)})
            for name, belongs in HEADLINE_METRICS.items()}


def effective_items(n: int, templates: int, icc: float = DEFAULT_ICC) -> int:
    """``n / (1 + (m - 1) icc)`` with mean template size ``m = n / templates``, rounded down (>= templates)."""
    if not 0 <= icc <= 1:
        raise ValueError(f"icc = {icc}: must be in [0, 1]")
    if n == 0 or templates == 0:
        return 0
    mean_size = n / templates
    return max(templates, int(n / (1 + (mean_size - 1) * icc)))


def power_table(suite: ProbeSuite, alpha: float = 0.05, power: float = 0.8, churn: float = DEFAULT_CHURN,
                alt_churn: float = ALT_CHURN, icc: float = DEFAULT_ICC) -> list[dict]:
    """Per headline metric: items, templates, effective items, and the minimal detectable drop of the detector's
    one-sided test at ``alpha`` on one evaluation (churn ``churn`` and ``alt_churn``), on two evaluations pooled,
    and at ``alpha / HOLM_FAMILY`` (every paired metric testable at once: the worst case)."""
    rows = []
    templates = metric_templates(suite)
    for name, n in metric_items(suite).items():
        n_eff = effective_items(n, templates[name], icc)
        rows.append({"metric": name, "items": n, "templates": templates[name], "effective_items": n_eff,
                     "continuous": name in CONTINUOUS_HEADLINES,
                     "min_drop": min_detectable_drop(n_eff, alpha, power, churn, "greater"),
                     "min_drop_alt_churn": min_detectable_drop(n_eff, alpha, power, alt_churn, "greater"),
                     "min_drop_two_evaluations": min_detectable_drop(2 * n_eff, alpha, power, churn, "greater"),
                     "min_drop_holm": min_detectable_drop(n_eff, alpha / HOLM_FAMILY, power, churn, "greater")})
    return rows


def format_table(suite: ProbeSuite, rows: list[dict], alpha: float = 0.05, power: float = 0.8,
                 churn: float = DEFAULT_CHURN, alt_churn: float = ALT_CHURN, icc: float = DEFAULT_ICC) -> str:
    """The power table as markdown (drops in percentage points of the rate)."""
    def pts(x: float) -> str:
        return "n/a" if math.isinf(x) else f"{100 * x:.1f}"

    lines = [
        f"Suite `{suite.name}` v{suite.version}: {len(suite)} probes, sha256 `{suite.sha256[:12]}`. "
        f"Smallest true drop (percentage points) detected with {power:.0%} power by the detector's one-sided exact "
        f"paired test, on the effective number of independent items (template clusters, icc {icc:g}).",
        "",
        f"| metric | items | templates | effective items | min drop, alpha={alpha:g}, churn {churn:.0%} "
        f"| churn {alt_churn:.0%} | 2 evaluations pooled, churn {churn:.0%} "
        f"| alpha={alpha:g}/{HOLM_FAMILY} (worst case), churn {churn:.0%} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        mark = " *" if r["continuous"] else ""
        lines.append(f"| `{r['metric']}`{mark} | {r['items']} | {r['templates']} | {r['effective_items']} "
                     f"| {pts(r['min_drop'])} | {pts(r['min_drop_alt_churn'])} | {pts(r['min_drop_two_evaluations'])} "
                     f"| {pts(r['min_drop_holm'])} |")
    if any(r["continuous"] for r in rows):
        lines += ["", "\\* not a rate: per item -1/0/+1, tested with a paired sign-flip test on its signed change; the "
                      "row gives the rise in the share of ambiguous items answered with the stereotyped option (items "
                      "moving from \"unknown\")."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m driftguard.probes.power [SUITE] [--alpha A] [--power P] [--churn R]``: print the power table."""
    import argparse

    from driftguard.probes.loaders import load_suite

    parser = argparse.ArgumentParser(prog="python -m driftguard.probes.power", description=main.__doc__)
    parser.add_argument("suite", nargs="?", default="compact", help="shipped name, path or adapter spec (default compact)")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--power", type=float, default=0.8)
    parser.add_argument("--churn", type=float, default=DEFAULT_CHURN, help="background discordance r (default 0.02)")
    parser.add_argument("--alt-churn", type=float, default=ALT_CHURN, help="second churn column (default 0.05)")
    parser.add_argument("--icc", type=float, default=DEFAULT_ICC,
                        help="correlation of items sharing a template (default 0.3; 1 = one unit per template)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    suite = load_suite(args.suite)
    rows = power_table(suite, args.alpha, args.power, args.churn, args.alt_churn, args.icc)
    print(format_table(suite, rows, args.alpha, args.power, args.churn, args.alt_churn, args.icc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
