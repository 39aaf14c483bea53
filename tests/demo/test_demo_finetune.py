"""A rerun of the demo into the same folder starts clean; a foreign folder is never deleted."""

from __future__ import annotations

import pytest

from driftguard.demo.finetune import fresh_output_dir


def test_previous_demo_run_is_removed(tmp_path):
    run = tmp_path / "drift"
    (run / "driftguard").mkdir(parents=True)
    (run / "driftguard" / "history.jsonl").write_text('{"step": 0}\n')
    (run / "checkpoint-15").mkdir()
    fresh_output_dir(run)
    assert not run.exists()


def test_foreign_folder_is_refused_and_kept(tmp_path):
    other = tmp_path / "drift"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a previous demo run"):
        fresh_output_dir(other)
    assert (other / "notes.txt").read_text() == "mine"


def test_missing_or_empty_folder_is_fine(tmp_path):
    fresh_output_dir(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    fresh_output_dir(empty)
    assert not empty.exists()
