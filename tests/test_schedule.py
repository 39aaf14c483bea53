"""ProbeSchedule: which tier runs at which evaluation; metric -> tier for the report."""

from __future__ import annotations

import pytest

from driftguard.errors import ConfigError
from driftguard.schedule import ProbeSchedule, metric_tier, metric_tiers


def test_generation_every_nth_periodic_evaluation_and_always_at_saves_and_the_end():
    schedule = ProbeSchedule(generate_every=3)
    assert [schedule.tier("periodic") for _ in range(6)] == ["forward", "forward", "full"] * 2
    assert schedule.tier("save") == "full" and schedule.tier("end") == "full" and schedule.tier("baseline") == "full"
    assert schedule.tier("evaluate") == "forward"
    assert ProbeSchedule(generate_every=1).tier("evaluate") == "full"
    assert [ProbeSchedule(1).tier("periodic") for _ in range(3)] == ["full"] * 3
    restored = ProbeSchedule(3)
    restored.load_state_dict(schedule.state_dict())
    assert restored.tier("periodic") == "forward" and restored.periodic == 7
    assert ProbeSchedule.complete("full") and not ProbeSchedule.complete("forward")
    with pytest.raises(ConfigError, match="generate_every"):
        ProbeSchedule(0)


def test_metric_tiers():
    assert metric_tier("driftguard/mechanism/refusal_dprime") == "forward"
    assert metric_tier("driftguard/safety/refusal_margin") == "forward"
    assert metric_tier("driftguard/kl/mean") == "forward" and metric_tier("driftguard/kl/on_policy") == "full"
    assert metric_tier("driftguard/safety/harmful_refusal_rate") == "full"
    assert metric_tiers({"driftguard/bias/disambiguated_accuracy": 1.0, "driftguard/toxicity/toxic_rate": 0.0}) == {
        "driftguard/bias/disambiguated_accuracy": "forward", "driftguard/toxicity/toxic_rate": "generate"}


def test_config_fields_of_the_schedule_and_the_mechanism_tier():
    from transformers import HfArgumentParser

    from driftguard.config import DriftGuardConfig

    config = DriftGuardConfig()
    assert config.mechanism and config.generate_every == 1
    assert config.informational_metrics[:3] == ["driftguard/mechanism/refusal_dprime", "driftguard/mechanism/harmful_projection",
                                    "driftguard/mechanism/direction_cosine"]
    assert DriftGuardConfig(informational_metrics="kl/mean, safety/refusal_margin").informational_metrics[:2] == [
        "driftguard/kl/mean", "driftguard/safety/refusal_margin"]
    with pytest.raises(ConfigError, match="generate_every = 0"):
        DriftGuardConfig(generate_every=0)
    with pytest.raises(ConfigError, match="unknown metric 'mechanism/nope'"):
        DriftGuardConfig(informational_metrics=["mechanism/nope"])
    [parsed] = HfArgumentParser(DriftGuardConfig).parse_args_into_dataclasses(
        ["--generate_every", "4", "--mechanism", "false", "--informational_metrics", "kl/mean"])
    assert (parsed.generate_every, parsed.mechanism, parsed.informational_metrics[:1]) == (4, False, ["driftguard/kl/mean"])
