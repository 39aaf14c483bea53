"""Fixtures of the detector tests (builders live in detect_synthetic.py, shared with report and gate tests)."""

from __future__ import annotations

import pytest
from detect_synthetic import build_evaluation


@pytest.fixture()
def make_eval():
    return build_evaluation
