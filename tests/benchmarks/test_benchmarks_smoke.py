"""Smoke runs of the benchmark scripts at their smallest settings: each main() prints JSON, headline last.

No timing assertions: the figures are only meaningful from a full run (see benchmarks/README.md).
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script(module: str):
    """``benchmarks.<module>`` (the repository root goes on sys.path: benchmarks/ is not an installed package)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"benchmarks.{module}")


def _run(module: str, argv: list[str], capsys) -> tuple[dict, dict]:
    """Run ``benchmarks.<module>.main(argv)``; return (full result, headline parsed from the last printed line)."""
    script = _script(module)
    result = script.main(argv)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    return result, json.loads(lines[-1])


def test_power_smoke(capsys):
    result, headline = _run("power", ["--runs", "2", "--evals", "3", "--drops", "0.1", "--metrics",
                                      "safety/harmful_refusal_rate", "--n-boot", "50"], capsys)
    assert 0.0 <= headline["false_alarm_rate_per_eval"] <= 1.0 and 0.0 <= headline["run_false_fail_rate"] <= 1.0
    assert 0.0 <= headline["mean_flag_within_1_drop_10pt"] <= headline["mean_flag_within_2_drop_10pt"] <= 1.0
    row = result["drift"][0]
    assert row["metric"] == "driftguard/safety/harmful_refusal_rate" and row["items"] == 48 and row["templates"] == 48
    assert result["settings"]["evals"] == 3
    # every paired metric of compact v2 (+ trace toxicity) is simulated, except robustness/consistency: it exists only on
    # variants whose clean item was right, so an output-free layout pass cannot place it
    assert result["settings"]["paired_metrics"] == 16


def test_power_simulated_drop_moves_the_rate():
    """The simulator's target metric moves by about -drop (mean over many items), the others do not drift."""
    import numpy as np

    from driftguard.probes import load_suite

    power = _script("power")
    target = power.HARMFUL_REFUSAL
    sim = power.RunSimulator(load_suite("compact"), churn=0.02)
    rng = np.random.default_rng(0)
    deltas = {target: [], "driftguard/ethics/accuracy": []}
    for _ in range(40):
        base, cur = sim.simulate(rng, target, 0.2, 1)
        for name in deltas:
            deltas[name].append(cur.metrics[name] - base.metrics[name])
    assert math.isclose(float(np.mean(deltas[target])), -0.2, abs_tol=0.04)
    assert abs(float(np.mean(deltas["driftguard/ethics/accuracy"]))) < 0.04


def test_power_templates_share_their_draws():
    """Template clustering: with icc 1 every item of a template flips together (bias items carry templates)."""
    import numpy as np

    from driftguard.probes import load_suite

    power = _script("power")
    sim = power.RunSimulator(load_suite("compact"), churn=0.02, icc=1.0)
    name = "driftguard/bias/disambiguated_accuracy"
    clusters = [sim.clusters[i] for i in sim.items[name]]
    assert len(set(clusters)) < len(clusters) and all(c is not None for c in clusters)
    rng = np.random.default_rng(0)
    for _ in range(20):
        base, cur = sim._binary(rng, name, 0.3, 1)
        changed = base != cur[0]
        for key in set(clusters):  # within a template, items with the same baseline state move together
            members = [i for i, c in enumerate(clusters) if c == key]
            for state in (0.0, 1.0):
                same = [changed[i] for i in members if base[i] == state]
                assert len(set(same)) <= 1


def test_probe_pass_smoke(capsys):
    result, headline = _run("probe_pass", ["--per-dimension", "1", "--max-new-tokens", "2", "--batch-size", "4",
                                           "--repeats", "1"], capsys)
    assert headline["speedup_vs_straightforward"] > 0
    assert "generate_speedup_vs_trl" in headline
    # fp32 on CPU: the batched pass reproduces the one-at-a-time outputs exactly (greedy ids, chosen options)
    assert headline["completions_equal"] == 1.0 and headline["chosen_option_equal"] == 1.0
    assert result["agreement"]["max_abs_diff_option_logprob"] < 1e-3


@pytest.mark.slow
def test_overhead_smoke(capsys):
    result, headline = _run("overhead", ["--steps", "2", "--eval-steps", "1", "--per-dimension", "4",
                                         "--max-new-tokens", "2", "--seq-len", "32", "--train-batch-size", "2",
                                         "--tier-repeats", "1"], capsys)
    assert "overhead_fraction" in headline and headline["steps"] == 2
    tiers = result["tiers"]
    assert set(tiers["seconds"]) == {"forward_evaluation", "full_evaluation", "mechanism_pass", "bare_forward"}
    assert tiers["mechanism_prompts"] >= 8 and headline["mechanism_vs_bare_forward"] > 0
    assert headline["full_tier_overhead_default_cadence"] > 0 and headline["forward_tier_overhead_default_cadence"] > 0
    guarded = result["runs"]["guarded"][0]
    assert [e["step"] for e in guarded["evaluations"] if e["hook"] == "on_step_end"] == [1, 2]
    assert guarded["verdict"] in ("pass", "warn", "fail") and result["runs"]["bare"][0]["steps"] == 2


def test_early_warning_first_steps_reads_the_reports():
    early = _script("early_warning")
    dprime, rate = "driftguard/mechanism/refusal_dprime", "driftguard/safety/harmful_refusal_rate"
    reports = [
        {"step": 0, "metrics": {dprime: 2.0, rate: 1.0}, "p_values": {}, "deltas": {}, "regressions": []},
        {"step": 5, "metrics": {dprime: 1.9, rate: 1.0}, "p_values": {dprime: 0.01, rate: 1.0},
         "deltas": {dprime: -0.1, rate: 0.0}, "regressions": []},
        {"step": 10, "metrics": {dprime: 1.0, rate: 0.5}, "p_values": {dprime: 0.001, rate: 0.001},
         "deltas": {dprime: -1.0, rate: -0.5}, "regressions": [{"metric": dprime}, {"metric": rate}]},
    ]
    table = early.first_steps(reports, (dprime, rate))
    assert table[dprime]["first_significant"] == 5 and table[dprime]["first_regressed"] == 10
    assert table[rate]["first_significant"] == 10 and table[rate]["values"] == {0: 1.0, 5: 1.0, 10: 0.5}


@pytest.mark.slow
def test_early_warning_scenario_smoke(tiny_model_dir, tmp_path):
    from datasets import Dataset

    from driftguard.probes import load_suite

    early = _script("early_warning")
    common = _script("common")
    suite = common.write_suite(common.subset_suite(load_suite("compact"), 4), tmp_path / "suite.jsonl")
    rows = [{"prompt": [{"role": "user", "content": f"q{i}"}], "completion": [{"role": "assistant", "content": "Sure."}]}
            for i in range(8)]
    settings = early.ScenarioSettings(max_steps=2, eval_steps=1, batch_size=4, warmup_steps=0, probe_batch_size=8,
                                      max_new_tokens=2, suite=str(suite))
    result = early.run_scenario("smoke", tiny_model_dir, Dataset.from_list(rows), tmp_path / "run", settings)
    assert [step for step, _ in result["verdicts"]] == [0, 1, 2]
    assert set(result["signals"]) == set(early.SIGNALS) and result["direction"]["layer"] >= 1
    assert set(result["signals"]["driftguard/mechanism/refusal_dprime"]["values"]) == {0, 1, 2}


def test_gpu_run_isolates_failures_and_keeps_to_its_budget(tmp_path, monkeypatch, capsys):
    """A measurement that crashes is recorded with its error; the next one still runs; over budget -> skipped."""
    gpu_run = _script("gpu_run")
    steps = [gpu_run.Measurement("broken", "power", ["--no-such-flag"], 1),
             gpu_run.Measurement("power", "power", ["--runs", "1", "--drops", "0.1", "--metrics",
                                                    "safety/harmful_refusal_rate", "--n-boot", "20"], 1,
                                 ("false_alarm_rate_per_eval",)),
             gpu_run.Measurement("late", "power", [], 10_000)]
    monkeypatch.setattr(gpu_run, "plan", lambda smoke, device: steps)
    summary = gpu_run.main(["--out", str(tmp_path), "--budget", "400", "--reserve", "0"])
    runs = summary["measurements"]
    assert runs["broken"]["status"] == "error" and "--no-such-flag" in runs["broken"]["error"]
    assert runs["power"]["status"] == "ok" and 0 <= runs["power"]["headline"]["false_alarm_rate_per_eval"] <= 1
    assert runs["late"]["status"] == "skipped" and "time budget" in runs["late"]["reason"]
    for name in ("broken", "power", "late"):
        assert json.loads((tmp_path / f"{name}.json").read_text())["name"] == name
    assert json.loads((tmp_path / "summary.json").read_text())["measurements"].keys() == runs.keys()
    assert "false_alarm_rate_per_eval=" in capsys.readouterr().out


@pytest.mark.slow
def test_gpu_run_smoke_variant(tmp_path):
    """The prepared GPU script's CPU variant: every planned measurement runs and writes its JSON."""
    gpu_run = _script("gpu_run")
    summary = gpu_run.main(["--smoke", "--out", str(tmp_path), "--budget", "900"])
    planned = [m.name for m in gpu_run.plan(True, "cpu")]
    assert list(summary["measurements"]) == planned
    for name in planned:
        record = json.loads((tmp_path / f"{name}.json").read_text())
        assert record["status"] == "ok", record.get("error")
        assert record["headline"] and isinstance(record["result"], dict), name
    assert summary["measurements"]["overhead"]["headline"]["mechanism_vs_bare_forward"] > 0


def test_gpu_run_plan_arguments_are_accepted_by_each_script(monkeypatch):
    """Every GPU measurement's command line parses with its script's own parser (no model is built)."""
    import argparse

    gpu_run = _script("gpu_run")

    class Parsed(Exception):
        pass

    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        raise Parsed(original(self, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    planned = gpu_run.plan(False, "cuda")
    assert {"overhead", "tiers_1.5b", "kl_pass", "probe_pass"} <= {m.name for m in planned}
    assert sum(m.estimate for m in planned if m.name in ("overhead", "tiers_1.5b", "kl_pass", "probe_pass")) <= 480
    for m in planned:
        with pytest.raises(Parsed) as parsed:
            _script(m.module).main(m.argv)
        assert parsed.value.args[0].device == "cuda", m.name


def test_option_scoring_smoke(capsys):
    """The shared-prefix scores equal one row per opening, with fewer tokens fed (timing is never asserted)."""
    result, headline = _run("option_scoring", ["--shape", "tiny", "--n", "3", "--thought-tokens", "24",
                                               "--repeats", "1", "--batch-size", "8"], capsys)
    assert headline["requests"] == 3 and headline["max_abs_logprob_diff"] < 1e-4
    assert result["tokens_fed"]["shared"] < result["tokens_fed"]["per_row"]
