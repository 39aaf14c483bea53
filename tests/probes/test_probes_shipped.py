"""The shipped suites: minimums per dimension, compact within full, deterministic build, scorability, listing."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from driftguard.probes import SHIPPED_SUITES, ProbeSuite, load_shipped, load_suite, print_suites, templates_per_dimension
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
    counts = full.counts()
    assert all(n >= 80 for n in counts.values()), counts
    safety = Counter(p.expect for p in full if p.dimension == "safety")
    assert safety["refuse"] >= 90 and safety["comply"] >= 90
    bias = [p for p in full if p.dimension == "bias"]
    templates = Counter(p.category for p in {p.meta["template"]: p for p in bias}.values())
    assert len(templates) >= 9 and min(templates.values()) >= 5, templates  # >= 5 templates per category
    assert Counter(p.condition for p in bias) == {"ambiguous": 180, "disambiguated": 360}
    ethics = [p for p in full if p.dimension == "ethics"]
    assert Counter(p.meta["label"] for p in ethics if not is_evasive(p)) == {"wrong": 60, "not wrong": 60}
    assert sum(1 for p in ethics if is_evasive(p)) == 50
    privacy = [p for p in full if p.dimension == "privacy"]
    assert {p.meta["asker"] for p in privacy} == {"owner", "third_party"} and any(p.meta["step_by_step"] for p in privacy)
    assert {p.meta["norm"] for p in privacy} == {"explicit", "inferred"} and {p.meta["tier"] for p in privacy} == {2, 3, 4}
    assert sum(1 for p in privacy if p.meta.get("public")) == 48
    robust = [p for p in full if p.dimension == "robustness"]
    assert {p.meta["perturbation"] for p in robust} == {"paraphrase", "typos", "formatting", "translation", "distractor",
                                                         "roleplay", "jailbreak_prefix", "hypothetical"}
    assert {full.get(p.variant_of).dimension for p in robust} == {"safety", "ethics"}
    assert all(p.meta.get("template") for p in full)


def test_every_item_has_a_template_and_variants_share_their_source_template(full: ProbeSuite) -> None:
    for p in full:
        assert isinstance(p.meta.get("template"), str) and p.meta["template"], p.id
        if p.dimension == "robustness":
            assert p.meta["template"] == f"src-{p.variant_of}"


def test_bias_items_are_well_formed_and_balanced(full: ProbeSuite) -> None:
    bias = [p for p in full if p.dimension == "bias"]
    for p in bias:
        unknown = p.meta["unknown_option"]
        assert p.stereotyped != unknown and len(set(p.options)) == 3
        assert (p.answer == unknown) == (p.condition == "ambiguous")
        assert p.meta["first_mentioned"] != unknown
    dis = [p for p in bias if p.condition == "disambiguated"]
    # the answer is the first-mentioned person in exactly half of the items of every polarity
    for polarity in ("neg", "nonneg"):
        items = [p for p in dis if p.meta["question_polarity"] == polarity]
        assert sum(p.answer == p.meta["first_mentioned"] for p in items) * 2 == len(items)
    assert sum(p.meta["context_consistent"] for p in dis) * 2 == len(dis)
    # polarity pairs share one option order
    pairs: dict[str, list] = {}
    for p in bias:
        pairs.setdefault(p.meta["pair"], []).append(p)
    assert all(len(g) == 2 and g[0].options == g[1].options for g in pairs.values())


def test_v1_comparison_groups_with_stereotypes_of_their_own_are_gone(full: ProbeSuite) -> None:
    text = " ".join(p.prompt for p in full if p.dimension == "bias")
    assert "rugby" not in text and "chess club" not in text


def test_ethics_surface_forms_do_not_predict_the_label(full: ProbeSuite) -> None:
    ethics = [p for p in full if p.dimension == "ethics"]
    plain = [p for p in ethics if not is_evasive(p)]
    for label in ("wrong", "not wrong"):
        group = [p for p in plain if p.meta["label"] == label]
        assert sum(", but" in p.meta["scenario"] for p in group) * 2 == len(group)
        assert sum(p.meta["option_texts"][0] == "wrong" for p in group) * 2 == len(group)
    evasive = [p for p in ethics if is_evasive(p)]
    assert sum(", but" in p.meta["scenario"] for p in evasive) * 2 == len(evasive)
    assert all(p.options == ["A", "B"] or p.options == ("A", "B") for p in ethics)
    assert any(p.meta["long"] for p in plain)


def test_robustness_variants_keep_the_clean_label(full: ProbeSuite) -> None:
    for p in full:
        if p.dimension == "robustness":
            clean = full.get(p.variant_of)
            assert (p.kind, p.expect, p.options, p.answer) == (clean.kind, clean.expect, clean.options, clean.answer)
            assert p.prompt != clean.prompt
            if p.meta["shift"] == "jailbreak":
                assert clean.expect == "refuse"
    ood = Counter(p.expect for p in full if p.dimension == "robustness" and p.meta["shift"] == "ood")
    assert ood["refuse"] == ood["comply"]


def test_safety_benign_items_carry_trigger_words_and_self_harm_is_marked(full: ProbeSuite) -> None:
    safety = [p for p in full if p.dimension == "safety"]
    assert {"nonsense_discrimination", "fictional_privacy", "contrast_pair", "dual_use", "multi_turn"} <= {
        p.category for p in safety}
    assert any(p.messages for p in safety if p.category == "multi_turn")
    assert all(p.meta.get("safe_completion") for p in safety if p.category == "self_harm")
    pairs = Counter(p.meta["template"] for p in safety if p.category == "contrast_pair")
    assert set(pairs.values()) == {2}


def test_compact_is_a_balanced_subset_of_full(full: ProbeSuite, compact: ProbeSuite) -> None:
    assert all(full.get(p.id) == p for p in compact)
    assert 400 <= len(compact) <= 600
    for p in compact:
        if p.dimension == "robustness":
            assert p.variant_of in compact  # the clean item is kept
    assert {p.category for p in compact if p.dimension == "bias"} == {p.category for p in full if p.dimension == "bias"}
    assert {p.meta["template"] for p in compact if p.dimension == "bias"} == {
        p.meta["template"] for p in full if p.dimension == "bias"}
    assert {p.meta["perturbation"] for p in compact if p.dimension == "robustness"} == {
        p.meta["perturbation"] for p in full if p.dimension == "robustness"}
    assert any(p.meta.get("public") for p in compact)


def test_compact_sizes_come_from_the_power_calculation(build, compact: ProbeSuite) -> None:
    from driftguard.probes.power import mcnemar_power, metric_items

    select = sys.modules["compact_select"]
    sizes = select.compact_sizes()
    items = metric_items(compact)
    assert items["driftguard/safety/harmful_refusal_rate"] == items["driftguard/safety/benign_compliance_rate"] == sizes["safety"]
    assert mcnemar_power(sizes["safety"], select.COMPACT_TARGET_DROP["safety"]) >= 0.8
    assert mcnemar_power(sizes["safety"] - 1, select.COMPACT_TARGET_DROP["safety"]) < 0.8
    others = {k: v for k, v in items.items() if "safety" not in k}
    assert all(v >= sizes["default"] for v in others.values()), others


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
    assert loaded.info == compact.info and loaded.version == "2" and loaded.name == "compact"


def test_print_suites_lists_both_suites_with_counts(capsys: pytest.CaptureFixture[str], full: ProbeSuite,
                                                    compact: ProbeSuite) -> None:
    assert print_suites() == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.split()}
    for suite in (compact, full):
        row = lines[suite.name]
        assert row[1] == "2" and suite.sha256.startswith(row[2]) and row[3] == str(len(suite))
        units = templates_per_dimension(suite)
        assert row[-5:] == [f"{suite.counts()[d]}/{units[d]}" for d in DIMENSIONS[1:]]
        assert row[4] == f"{suite.counts()['safety']}/{units['safety']}"
    assert "safety" in out and "robustness" in out


def test_every_privacy_canary_is_detected_when_repeated(full: ProbeSuite) -> None:
    privacy = ProbeSuite("p", "1", tuple(p for p in full if p.dimension == "privacy"))
    outputs = ProbeOutputs(generations={
        p.id: Generation(p.id, "", f"The record says {p.secret}.", f"Sure: {p.secret}") for p in privacy})
    records = score_all(privacy.probes, outputs)
    assert all(r.values["driftguard/privacy/answer_leak_rate"] == r.values["driftguard/privacy/reasoning_leak_rate"] == 1.0
               for r in records)
    assert {r.values.get("driftguard/privacy/utility_rate") for r in records} == {None, 0.0}  # public part not shared
    assert len({p.secret for p in privacy if p.category != "diagnosis"}) == sum(1 for p in privacy if p.category != "diagnosis")


def test_balanced_selection_fills_cells_evenly_and_spreads_templates(build) -> None:
    from driftguard.types import Probe

    select = sys.modules["compact_select"]
    items = [Probe(id=f"i{k}", dimension="toxicity", kind="generate", prompt="p", category="ab"[k % 2],
                   meta={"template": f"t{k % 5}"}) for k in range(40)]
    ids = select.balanced(items, 9, lambda p: p.category)  # rounded up to 10: 5 per cell
    chosen = [p for p in items if p.id in ids]
    assert len(ids) == 10 and Counter(p.category for p in chosen) == {"a": 5, "b": 5}
    assert len({p.meta["template"] for p in chosen}) == 5  # every template before any repeats
    forced = [f"i{k}" for k in range(0, 14, 2)]  # 7 items of cell "a" forced in: cell "b" fills the rest
    ids = select.balanced(items, 10, lambda p: p.category, forced)
    assert ids[:7] == forced and len(ids) == 10
    with pytest.raises(Exception, match="cannot pick"):
        select.balanced(items[:3], 10, lambda p: p.category)
