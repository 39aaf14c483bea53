"""The shipped suites: minimums per dimension, compact within full, deterministic build, scorability, listing."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from driftguard.probes import SHIPPED_SUITES, ProbeSuite, load_shipped, load_suite, print_suites
from driftguard.probes.loaders import shipped_path
from driftguard.scorers import score_all
from driftguard.scorers.ethics import is_evasive
from driftguard.types import DIMENSIONS, Generation, OptionScore, ProbeOutputs

BUILD = Path(__file__).resolve().parents[2] / "tools" / "suites" / "build.py"


@pytest.fixture(scope="module")
def full() -> ProbeSuite:
    return load_shipped("full")


@pytest.fixture(scope="module")
def compact() -> ProbeSuite:
    return load_shipped("compact")


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("driftguard_suites_build", BUILD)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_full_meets_the_per_dimension_minimums(full: ProbeSuite) -> None:
    assert all(n >= 100 for n in full.counts().values()), full.counts()
    safety = Counter(p.expect for p in full if p.dimension == "safety")
    assert safety["refuse"] >= 60 and safety["comply"] >= 60
    bias = [p for p in full if p.dimension == "bias"]
    assert len({p.category for p in bias}) >= 8
    assert Counter(p.condition for p in bias) == {"ambiguous": 72, "disambiguated": 72}
    ethics = [p for p in full if p.dimension == "ethics"]
    assert Counter(p.answer for p in ethics if not is_evasive(p)) == {0: 50, 1: 50}
    assert sum(1 for p in ethics if is_evasive(p)) == 50
    privacy = [p for p in full if p.dimension == "privacy"]
    assert {p.meta["asker"] for p in privacy} == {"owner", "third_party"} and any(p.meta["step_by_step"] for p in privacy)
    robust = [p for p in full if p.dimension == "robustness"]
    assert {p.meta["perturbation"] for p in robust} == {"typos", "leetspeak", "roleplay", "formatting", "translation"}
    assert {full.get(p.variant_of).dimension for p in robust} == {"safety", "ethics"}


def test_bias_items_are_well_formed(full: ProbeSuite) -> None:
    for p in full:
        if p.dimension != "bias":
            continue
        unknown = p.meta["unknown_option"]
        assert p.stereotyped != unknown and len(set(p.options)) == 3
        assert (p.answer == unknown) == (p.condition == "ambiguous")


def test_robustness_variants_keep_the_clean_outcome(full: ProbeSuite) -> None:
    for p in full:
        if p.dimension == "robustness":
            clean = full.get(p.variant_of)
            assert (p.kind, p.expect, p.options, p.answer) == (clean.kind, clean.expect, clean.options, clean.answer)
            assert p.prompt != clean.prompt


def test_compact_is_a_stratified_subset_of_full(full: ProbeSuite, compact: ProbeSuite) -> None:
    assert all(full.get(p.id) == p for p in compact)
    assert 200 <= len(compact) <= 450
    for p in compact:
        if p.dimension == "robustness":
            assert p.variant_of in compact  # the clean item is kept
    assert {p.category for p in compact if p.dimension == "bias"} == {p.category for p in full if p.dimension == "bias"}
    assert {p.category for p in compact if p.dimension == "safety"} == {p.category for p in full if p.dimension == "safety"}
    assert {p.meta["perturbation"] for p in compact if p.dimension == "robustness"} == {
        p.meta["perturbation"] for p in full if p.dimension == "robustness"}


def test_compact_sizes_come_from_the_power_calculation(build, compact: ProbeSuite) -> None:
    from driftguard.probes.power import mcnemar_power, metric_items

    sizes = build.compact_sizes()
    items = metric_items(compact)
    assert items["driftguard/safety/harmful_refusal_rate"] == items["driftguard/safety/benign_compliance_rate"] == sizes["safety"]
    assert mcnemar_power(sizes["safety"], build.COMPACT_TARGET_DROP["safety"]) >= 0.8
    assert mcnemar_power(sizes["safety"] - 1, build.COMPACT_TARGET_DROP["safety"]) < 0.8
    others = {k: v for k, v in items.items() if "safety" not in k}
    assert set(others.values()) == {sizes["default"]}


def test_build_output_equals_the_committed_files(build) -> None:
    files = build.render()
    for name in SHIPPED_SUITES:
        assert shipped_path(name).read_text(encoding="utf-8") == files[f"{name}.jsonl"], f"rerun {BUILD}"
    assert build.render() == files  # deterministic within one process too


def test_build_check_mode_detects_stale_files(build, tmp_path: Path) -> None:
    assert build.main(["--out", str(tmp_path)]) == 0
    assert build.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "compact.jsonl").write_text("{}\n")
    assert build.main(["--check", "--out", str(tmp_path)]) == 1


def fake_outputs(suite: ProbeSuite) -> ProbeOutputs:
    """A reply to every generate probe and a score for every option: what a runner would produce."""
    outputs = ProbeOutputs()
    for p in suite:
        if p.kind == "generate":
            outputs.generations[p.id] = Generation(p.id, "Sure, here you go.", "Let me think.", "Sure, here you go.")
        else:
            outputs.choices[p.id] = [OptionScore(-float(i + 1), 1) for i in range(len(p.options))]
    return outputs


@pytest.mark.parametrize("name", SHIPPED_SUITES)
def test_every_shipped_item_is_scorable(name: str) -> None:
    suite = load_shipped(name)
    records = score_all(suite.probes, fake_outputs(suite), toxicity_judge=lambda texts: [0.1] * len(texts))
    problems = [(r.probe_id, r.error) for r in records if not r.scored]
    assert not problems, problems[:5]
    assert {r.dimension for r in records} == set(DIMENSIONS)


def test_load_suite_by_shipped_name(compact: ProbeSuite) -> None:
    loaded = load_suite("compact")
    assert loaded.info == compact.info and loaded.version == "1" and loaded.name == "compact"


def test_print_suites_lists_both_suites_with_counts(capsys: pytest.CaptureFixture[str], full: ProbeSuite,
                                                    compact: ProbeSuite) -> None:
    assert print_suites() == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.split()}
    for suite in (compact, full):
        row = lines[suite.name]
        assert row[1] == "1" and suite.sha256.startswith(row[2]) and row[3] == str(len(suite))
        assert row[-5:] == [str(suite.counts()[d]) for d in DIMENSIONS[1:]]
    assert "safety" in out and "robustness" in out


def test_every_privacy_canary_is_detected_when_repeated(full: ProbeSuite) -> None:
    privacy = ProbeSuite("p", "1", tuple(p for p in full if p.dimension == "privacy"))
    outputs = ProbeOutputs(generations={
        p.id: Generation(p.id, "", f"The record says {p.secret}.", f"Sure: {p.secret}") for p in privacy})
    records = score_all(privacy.probes, outputs)
    assert all(r.values == {"driftguard/privacy/answer_leak_rate": 1.0, "driftguard/privacy/reasoning_leak_rate": 1.0}
               for r in records)
    assert len({p.secret for p in privacy if p.category != "diagnosis"}) == sum(1 for p in privacy if p.category != "diagnosis")
