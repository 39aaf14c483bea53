"""trackio sink: without trackio (not installed here) it is a silent no-op that never imports it."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from sink_reports import HRR, make_report

from driftguard.config import DriftGuardConfig
from driftguard.sinks.trackio import TrackioSink, _accepts, active_trackio_run


@pytest.mark.parametrize("absent", ["not imported", "import fails"])
def test_no_trackio_is_a_noop(absent, monkeypatch):
    if absent == "import fails":
        monkeypatch.setitem(sys.modules, "trackio", None)
    else:
        monkeypatch.delitem(sys.modules, "trackio", raising=False)
    assert active_trackio_run() is None
    sink = TrackioSink(DriftGuardConfig())
    sink.log_evaluation(make_report(10, "fail", {HRR: 0.5}), step=10)
    assert sink.alerts.state_dict() is None  # no run: no alert state was even created
    if importlib.util.find_spec("trackio") is None:
        assert "trackio" not in sys.modules or sys.modules["trackio"] is None  # we never import it ourselves


def test_step_is_passed_only_where_the_alert_api_takes_it():
    def with_step(title: str, text: str, level: str, step: int) -> None: ...
    def without_step(title: str, text: str, level: str, webhook_url: str | None = None) -> None: ...
    def with_kwargs(title: str, **kwargs: object) -> None: ...

    assert _accepts(with_step, "step") and _accepts(with_kwargs, "step")
    assert not _accepts(without_step, "step")
