"""Issue 19 items 1 and 8: synced generation of a reasoner under FSDP1 (2 gloo processes) where only one rank's
thoughts are cut (ranks must agree on the number of phase-2 batches), and an OOM on one rank inside a synced
generate (the batch halving is decided collectively). Before the fixes the 2-process run hung."""

from __future__ import annotations

import json
import sys

import pytest
from test_distributed_accelerate import ACCELERATE_2, HERE, _run

SCRIPT = str(HERE / "thinking_sync_script.py")


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    out = tmp_path_factory.mktemp("thinking-single")
    _run([sys.executable, SCRIPT, str(out), "plain"])
    return json.loads((out / "thinking-plain-rank0.json").read_text())


def _two(tmp_path_factory, variant: str) -> list[dict]:
    out = tmp_path_factory.mktemp(f"thinking-{variant}")
    _run([sys.executable, *ACCELERATE_2, SCRIPT, str(out), variant])  # a hang fails there after its timeout
    return [json.loads((out / f"thinking-{variant}-rank{r}.json").read_text()) for r in (0, 1)]


@pytest.mark.distributed
@pytest.mark.parametrize("variant", ["plain", "oom"])
def test_synced_thinking_with_cut_thoughts_on_one_rank(single, tmp_path_factory, variant):
    two = _two(tmp_path_factory, variant)
    assert [r["world_size"] for r in two] == [2, 2]
    merged = {**two[0]["generations"], **two[1]["generations"]}
    assert merged == single["generations"]
    assert [single["generations"][p]["cut"] for p in ("p0", "p1", "p2", "p3")] == [True, True, False, False]
    # rank 0: phase 1 + phase 2; rank 1 (no cut thought): phase 1 + a dummy phase-2 batch. The OOM: rank 1's
    # failed call and its dummy that joins rank 0's decoding, then phase 1 again as two halves on both ranks
    expected = [2, 2] if variant == "plain" else [4, 5]
    assert [r["generate_calls"] for r in two] == expected
