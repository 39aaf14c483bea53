"""Fixtures of the sink tests (builders live in sink_reports.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sink_reports import wandb_env


@pytest.fixture()
def offline_wandb(tmp_path: Path) -> Iterator[Path]:
    """Per-test offline W&B environment; yields the WANDB_DIR; tears wandb down afterwards."""
    import wandb

    with pytest.MonkeyPatch.context() as mp:
        wandb_env(mp, tmp_path / "wandb")
        yield tmp_path / "wandb" / "runs"
        if wandb.run is not None:
            wandb.finish()
        wandb.teardown()
