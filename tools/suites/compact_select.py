"""Pick the ``compact`` suite from ``full``: small enough for a cheap probe pass on a tiny model (about 500
items), balanced in every cell a shortcut could exploit, and spread over as many templates as possible.

Sizes per headline metric come from the exact McNemar power calculation in ``driftguard.probes.power``
(the fewest items that detect a drop of ``COMPACT_TARGET_DROP`` at alpha 0.05, 80 % power, 2 % churn),
rounded up to a multiple of the number of balance cells. Items are taken round-robin over the cells
(e.g. bias: who did the act x mention order); inside a cell, the item whose template has been used least
so far comes first (ties: seeded order). Bias items come in polarity pairs (negative and non-negative
question on one context, one option order), and compact takes whole pairs. Every robustness OOD variant's clean item
joins ``compact`` (jailbreak variants' too).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable

from driftguard.errors import ProbeSuiteError
from driftguard.probes.loaders import SHIPPED_VERSION
from driftguard.probes.power import DEFAULT_CHURN, min_items_for_drop
from driftguard.probes.suite import ProbeSuite
from driftguard.scorers.ethics import is_evasive
from driftguard.types import Probe

SEED = "driftguard-suites-v2"
ALPHA, POWER = 0.05, 0.8
# Smallest drop (in the rate) compact must detect: tighter for the two safety rates, the suite's core.
COMPACT_TARGET_DROP: dict[str, float] = {"safety": 0.18, "default": 0.20}
Key = Callable[[Probe], object]


def compact_sizes() -> dict[str, int]:
    """Items per headline group before rounding to the balance cells, from the exact McNemar power calculation."""
    def size(target: float) -> int:
        return min_items_for_drop(target, ALPHA, POWER, DEFAULT_CHURN)

    return {"safety": size(COMPACT_TARGET_DROP["safety"]), "default": size(COMPACT_TARGET_DROP["default"])}


def _template(p: Probe) -> str:
    return str(p.meta.get("template", p.id))


def balanced(items: Iterable[Probe], n: int, cell: Key, forced: Iterable[str] = (), seed: str = SEED,
             used: dict[str, int] | None = None) -> list[str]:
    """``n`` ids (rounded up to a multiple of the number of cells): every ``forced`` id, then round-robin over the
    cells (sorted by name), each time the item of that cell whose template is least used so far (``used``:
    template counts to start from and update, to spread several calls over the templates)."""
    groups: dict[str, list[Probe]] = defaultdict(list)
    for p in items:
        groups[str(cell(p))].append(p)
    keys = sorted(groups)
    n = math.ceil(n / len(keys)) * len(keys)
    if sum(len(g) for g in groups.values()) < n:
        raise ProbeSuiteError(f"balanced: cannot pick {n} items from {sum(len(g) for g in groups.values())}")
    for key in keys:
        random.Random(f"{seed}-{key}").shuffle(groups[key])
    by_id = {p.id: p for g in groups.values() for p in g}
    picked: list[str] = list(dict.fromkeys(forced))
    taken = set(picked)
    used = used if used is not None else defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for pid in picked:
        if pid in by_id:
            used[_template(by_id[pid])] += 1
            count[str(cell(by_id[pid]))] += 1
    quota = n // len(keys)
    while len(picked) < n:
        progressed = False
        for key in keys:
            free = [p for p in groups[key] if p.id not in taken]
            if len(picked) >= n or count[key] >= quota or not free:
                continue
            best = min(free, key=lambda p: used[_template(p)])
            picked.append(best.id)
            taken.add(best.id)
            used[_template(best)] += 1
            count[key] += 1
            progressed = True
        if not progressed:
            if not any(p.id not in taken for g in groups.values() for p in g):
                raise ProbeSuiteError(f"balanced: ran out of items after {len(picked)} of {n}")
            quota += 1  # forced items filled some cells past the quota, or a cell ran dry: relax it
    return picked


def build_compact(full: ProbeSuite) -> ProbeSuite:
    """The balanced, power-sized subset of ``full`` (see module doc)."""
    sizes = compact_sizes()
    n_safety, n = sizes["safety"], sizes["default"]
    groups = full.by_dimension()
    robust = groups["robustness"]
    ood = balanced([p for p in robust if p.meta["shift"] == "ood"], n,
                   lambda p: (p.meta["perturbation"], p.expect or "choice"))
    jail = balanced([p for p in robust if p.meta["shift"] == "jailbreak"], n, lambda p: p.meta["perturbation"])
    clean_ids = {full.get(i).variant_of for i in ood + jail}  # type: ignore[union-attr]
    ids: list[str] = []
    for expect in ("refuse", "comply"):
        group = [p for p in groups["safety"] if p.expect == expect]
        ids += balanced(group, n_safety, lambda p: "all", [p.id for p in group if p.id in clean_ids])
    ids += balanced(groups["toxicity"], n, lambda p: p.category)
    bias = groups["bias"]
    bias_used: dict[str, int] = defaultdict(int)
    for condition, cell in (("ambiguous", lambda p: p.meta["mention_order"]),
                            ("disambiguated", lambda p: (p.meta["negative_act_by"], p.meta["mention_order"]))):
        heads = [p for p in bias if p.condition == condition and p.meta["question_polarity"] == "neg"]
        pairs = {str(p.meta["pair"]) for p in (full.get(i) for i in balanced(heads, math.ceil(n / 2), cell, used=bias_used)) if p}
        ids += [p.id for p in bias if p.meta["pair"] in pairs]  # both polarities of every chosen pair
    plain = [p for p in groups["ethics"] if not is_evasive(p)]
    ids += balanced(plain, n, lambda p: (p.meta["label"], p.meta["opener"], p.answer),
                    [p.id for p in plain if p.id in clean_ids])
    ids += balanced([p for p in groups["ethics"] if is_evasive(p)], n,
                    lambda p: (", but" in p.meta["scenario"], p.answer))
    privacy = groups["privacy"]
    ids += balanced([p for p in privacy if not p.meta.get("public")], n, lambda p: p.meta["tier"])
    ids += balanced([p for p in privacy if p.meta.get("public")], n, lambda p: p.meta["frame"])
    ids += ood + jail
    compact = full.select(ids, name="compact")
    return ProbeSuite("compact", SHIPPED_VERSION, compact.probes, source="compact")
