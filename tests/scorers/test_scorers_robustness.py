"""Robustness scorer: variant outcome vs clean outcome in the same pass, or vs the expected outcome."""

from __future__ import annotations

import math

from driftguard.scorers import aggregate, score_all
from driftguard.types import Generation, OptionScore, Probe, ProbeOutputs

CONS = "driftguard/robustness/consistency"


def gen_probe(pid, dimension="safety", expect="refuse", variant_of=None) -> Probe:
    return Probe(id=pid, dimension=dimension, kind="generate", prompt=f"prompt {pid}", expect=expect, variant_of=variant_of)


def choice_probe(pid, dimension="ethics", answer=0, variant_of=None) -> Probe:
    return Probe(id=pid, dimension=dimension, kind="choice", prompt="act", options=("wrong", "not wrong"),
                 answer=answer, variant_of=variant_of)


def gen(pid: str, answer: str) -> Generation:
    return Generation(probe_id=pid, text=answer, reasoning="", answer=answer)


def pick(chosen: int) -> list[OptionScore]:
    return [OptionScore(-1.0, 1) if i == chosen else OptionScore(-2.0, 1) for i in range(2)]


REFUSE, COMPLY = "I'm sorry, but I can't help with that.", "Sure, here is how to do it."


def test_generate_variants_compared_with_clean_outcome_in_same_pass():
    probes = [gen_probe("s1"), gen_probe("s2"),
              gen_probe("r1", "robustness", variant_of="s1"), gen_probe("r2", "robustness", variant_of="s1"),
              gen_probe("r3", "robustness", variant_of="s2")]
    # s2 is NOT refused although expected: the variant r3 also complies -> consistent with the clean item
    outputs = ProbeOutputs(generations={g.probe_id: g for g in [
        gen("s1", REFUSE), gen("s2", COMPLY), gen("r1", "I cannot do that."), gen("r2", COMPLY), gen("r3", COMPLY)]})
    records = {r.probe_id: r for r in score_all(probes, outputs)}
    assert records["r1"].values == {CONS: 1.0} and records["r2"].values == {CONS: 0.0}
    assert records["r3"].values == {CONS: 1.0}
    assert records["r1"].meta == {"compared_with": "clean", "clean_id": "s1", "outcome": True, "reference_outcome": True}
    assert records["r2"].answer == COMPLY
    metrics = aggregate(records.values())
    assert metrics[CONS].value == 2 / 3 and metrics[CONS].n == 3


def test_choice_variants_compare_chosen_index():
    probes = [choice_probe("e1"), choice_probe("r1", "robustness", variant_of="e1"),
              choice_probe("r2", "robustness", variant_of="e1")]
    outputs = ProbeOutputs(choices={"e1": pick(1), "r1": pick(1), "r2": pick(0)})
    records = score_all(probes, outputs)
    assert records[1].values == {CONS: 1.0} and records[2].values == {CONS: 0.0}  # r2 matches the answer, not e1


def test_clean_item_absent_falls_back_to_expected_outcome_and_says_so():
    probes = [gen_probe("r1", "robustness", expect="refuse", variant_of="s-404"),
              gen_probe("r2", "robustness", expect="comply", variant_of="s-404"),
              choice_probe("r3", "robustness", answer=0, variant_of="e-404")]
    outputs = ProbeOutputs(generations={"r1": gen("r1", REFUSE), "r2": gen("r2", REFUSE)}, choices={"r3": pick(1)})
    records = score_all(probes, outputs)
    assert [r.values[CONS] for r in records] == [1.0, 0.0, 0.0]
    assert all(r.error is None and r.meta["compared_with"] == "expected" for r in records)
    assert "'s-404' not in the suite" in records[0].meta["note"]


def test_unscorable_variants_are_recorded():
    probes = [gen_probe("s1"), gen_probe("r1", "robustness", variant_of="s1"),
              gen_probe("r2", "robustness", expect=None, variant_of="gone"),
              choice_probe("r3", "robustness", variant_of="s1"),
              gen_probe("r4", "robustness", variant_of="s1")]
    outputs = ProbeOutputs(generations={"r1": gen("r1", REFUSE), "r2": gen("r2", REFUSE), "r4": gen("r4", REFUSE)},
                           choices={"r3": pick(0)})
    records = {r.probe_id: r for r in score_all(probes, outputs)}
    assert "'s1': no generation" in records["r1"].error  # clean output missing: no silent fallback
    assert "field 'expect' is missing" in records["r2"].error
    assert "differs from its clean item" in records["r3"].error
    assert all(math.isnan(records[k].values[CONS]) for k in ("r1", "r2", "r3", "r4"))
    assert aggregate(records.values())[CONS].n_unscored == 4
