"""The alert policy (pure): which evaluations alert, at which level, with which text."""

from __future__ import annotations

from types import SimpleNamespace

from sink_reports import HRR, LEAK, MARGIN, make_report

from driftguard.config import DriftGuardConfig
from driftguard.sinks.alerts import TITLE_MAX_CHARS, AlertLevel, AlertPolicy, AlertState, plan_alerts, short_title


def levels(alerts) -> list[str]:
    return [a.level.value for a in alerts]


def test_warn_then_fail_escalates_even_inside_the_cooldown():
    policy = AlertPolicy(cooldown_steps=1000)
    assert policy.update(make_report(0), step=0) == []
    warn = policy.update(make_report(10, "warn", {HRR: 0.7}), step=10, checkpoint="out/checkpoint-10")
    assert levels(warn) == ["WARN"]
    assert warn[0].title == "driftguard WARN: safety regressed"
    fail = policy.update(make_report(20, "fail", {HRR: 0.6}), step=20)
    assert levels(fail) == ["ERROR"] and fail[0].metrics == (HRR,)
    assert fail[0].title == "driftguard FAIL: safety regressed"


def test_alert_text_has_metric_baseline_now_delta_p_value_step_and_checkpoint():
    [alert] = AlertPolicy().update(make_report(20, "fail", {HRR: 0.6}), step=20, checkpoint="out/checkpoint-20")
    assert "safety/harmful_refusal_rate: 0.95 -> 0.6" in alert.text
    assert "delta -0.35" in alert.text and "p=0.0012" in alert.text
    assert "step 20" in alert.text and "checkpoint out/checkpoint-20" in alert.text
    assert "Last passing checkpoint: out/checkpoint-10" in alert.text


def test_a_persisting_regression_does_not_alert_again():
    policy = AlertPolicy()
    assert levels(policy.update(make_report(10, "warn", {HRR: 0.7}), step=10)) == ["WARN"]
    assert policy.update(make_report(20, "warn", {HRR: 0.7}), step=20) == []
    # a newly regressed metric alerts alone, the old one is listed as still regressed
    [alert] = policy.update(make_report(30, "warn", {HRR: 0.7, LEAK: 0.2}), step=30)
    assert alert.metrics == (LEAK,) and alert.title == "driftguard WARN: privacy regressed"
    assert "Still regressed:\n- safety/harmful_refusal_rate" in alert.text


def test_cooldown_suppresses_a_flapping_metric_then_lets_it_through():
    policy = AlertPolicy(cooldown_steps=50)
    assert levels(policy.update(make_report(10, "warn", {HRR: 0.7}), step=10)) == ["WARN"]
    assert policy.update(make_report(20), step=20) == []  # warn recovered: no INFO (only failures recover)
    assert policy.update(make_report(30, "warn", {HRR: 0.7}), step=30) == []  # 20 steps after the last WARN
    assert policy.update(make_report(40), step=40) == []
    assert levels(policy.update(make_report(60, "warn", {HRR: 0.7}), step=60)) == ["WARN"]  # 50 steps later


def test_recovery_of_a_failed_metric_sends_info():
    policy = AlertPolicy()
    policy.update(make_report(10, "fail", {MARGIN: 1.0}), step=10)
    [info] = policy.update(make_report(20), step=20, checkpoint="out/checkpoint-20")
    assert info.level is AlertLevel.INFO and info.title == "driftguard recovered: safety"
    assert "refusal_margin: baseline 3, now 3" in info.text and "step 20" in info.text
    assert policy.update(make_report(30), step=30) == []


def test_one_alert_per_level_lists_all_dimensions():
    [alert] = AlertPolicy().update(make_report(10, "fail", {HRR: 0.5, LEAK: 0.3, MARGIN: 0.1}), step=10)
    assert alert.title == "driftguard FAIL: privacy, safety regressed"
    assert set(alert.metrics) == {HRR, LEAK, MARGIN}


def test_fail_without_regressions_alerts_on_errors():
    [alert] = AlertPolicy().update(make_report(10, "fail", errors=2), step=10)
    assert alert.level is AlertLevel.ERROR and alert.title == "driftguard FAIL: 2 probe error(s)"
    assert "2 probe-pass error(s) recorded" in alert.text


def test_disabled_policy_and_config():
    assert AlertPolicy(enabled=False).update(make_report(10, "fail", {HRR: 0.5}), step=10) == []
    policy = AlertPolicy.from_config(DriftGuardConfig(wandb_alerts=False, alert_cooldown_steps=7))
    assert (policy.enabled, policy.cooldown_steps) == (False, 7)
    assert AlertPolicy.from_config(SimpleNamespace()).enabled is True


def test_plan_alerts_is_pure_and_state_round_trips():
    state = AlertState()
    alerts, nxt = plan_alerts(state, make_report(10, "fail", {HRR: 0.5}), step=10, cooldown_steps=5)
    assert levels(alerts) == ["ERROR"] and state.regressed == {} and state.last_sent == {}
    restored = AlertState.from_dict(nxt.to_dict())
    assert restored == nxt and restored.regressed == {HRR: AlertLevel.ERROR}
    again, _ = plan_alerts(restored, make_report(12, "fail", {HRR: 0.5}), step=12, cooldown_steps=5)
    assert again == []


def test_titles_stay_under_64_characters():
    labels = [f"dimension-number-{i}" for i in range(8)]
    title = short_title("driftguard FAIL: ", labels, " regressed")
    assert len(title) <= TITLE_MAX_CHARS < 64
    assert title.startswith("driftguard FAIL: dimension-number-0") and "more regressed" in title


def test_alert_state_survives_a_resume_into_a_new_tracker_run():
    from driftguard.sinks.alerts import RunAlertPolicies

    before = RunAlertPolicies(DriftGuardConfig())
    assert before.state_dict() is None
    assert levels(before.for_run("run-a").update(make_report(10, "warn", {HRR: 0.7}), step=10)) == ["WARN"]
    saved = before.state_dict()

    after = RunAlertPolicies(DriftGuardConfig())
    after.load_state_dict(saved)
    assert after.state_dict() == saved  # restored, not yet used: a save right after the resume keeps it
    resumed = after.for_run("run-b")  # a resumed job often logs to a new run
    assert resumed.update(make_report(20, "warn", {HRR: 0.7}), step=20) == []  # persisting: no re-alert
    assert levels(resumed.update(make_report(30, "fail", {HRR: 0.6}), step=30)) == ["ERROR"]
    assert after.for_run("run-c").state.regressed == {}  # the restored state seeds one run only
