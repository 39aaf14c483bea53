"""Issue 14 defect 7: FSDP1 (``FullyShardedDataParallel``) on CPU with 2 gloo processes: the probe pass generates
under the gathered root parameters, and PEFT is detected through the wrapper (``auto`` -> ``adapter``)."""

from __future__ import annotations

import json
import sys

import pytest
from test_distributed_accelerate import ACCELERATE_2, HERE, MINI_SUITE, _run, _same_records

SCRIPT = str(HERE / "fsdp1_probe_script.py")


@pytest.fixture(scope="module")
def fsdp1_runs(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("fsdp1")
    out = {}
    for variant in ("plain", "peft"):
        single, sharded = root / f"{variant}-single", root / f"{variant}-sharded"
        single.mkdir()
        sharded.mkdir()
        _run([sys.executable, SCRIPT, str(tiny_model_dir), str(single), MINI_SUITE, variant])
        _run([sys.executable, *ACCELERATE_2, SCRIPT, str(tiny_model_dir), str(sharded), MINI_SUITE, variant])
        out[variant] = (json.loads((single / f"fsdp1-{variant}-rank0.json").read_text()),
                        [json.loads((sharded / f"fsdp1-{variant}-rank{r}.json").read_text()) for r in (0, 1)])
    return out


@pytest.mark.distributed
@pytest.mark.parametrize("variant", ["plain", "peft"])
def test_fsdp1_generate_and_peft_detection_through_the_wrapper(fsdp1_runs, variant):
    one, two = fsdp1_runs[variant]
    assert one["world_size"] == 1 and [r["world_size"] for r in two] == [2, 2]
    assert all(r["wrapper"] == "FullyShardedDataParallel" and r["sharded"] for r in two)
    # the wrapper's forward is (*args, **kwargs): logits_to_keep is read off the model inside (issue 19, item 5)
    assert one["keeps_logits"] and all(r["keeps_logits"] for r in two)
    expected = "adapter" if variant == "peft" else "cached"
    assert one["reference"] == expected and [r["reference"] for r in two] == [expected, expected]
    assert [r["peft"] for r in two] == [variant == "peft"] * 2
    for part in ("baseline", "evaluation"):
        assert two[0][part]["errors"] == [] and two[1][part]["errors"] == [], "generate did not crash on any rank"
        _same_records(one, two[0], part)
        assert two[0][part]["metrics"] == two[1][part]["metrics"]
    assert two[0]["baseline"]["kl"]["mean"] == pytest.approx(0.0, abs=1e-6)
