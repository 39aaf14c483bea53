"""Ranks in one process: everything is a pass-through; sharding is detected only on FSDP-wrapped weights.

The multi-process paths run in test_distributed_accelerate.py (DDP, FSDP2, `driftguard run`).
"""

from __future__ import annotations

from driftguard.distributed import Ranks, is_sharded
from driftguard.probe_pass import margin_requests, score_options_on_ranks
from driftguard.probes import load_suite
from driftguard.runner import probe_option_requests, probing_mode, score_options


def test_single_process_is_a_pass_through(tiny_model_factory):
    ranks = Ranks()
    model = tiny_model_factory(0)
    assert ranks.world_size == 1 and not ranks.active and ranks.is_main
    assert ranks.shard([1, 2, 3]) == [1, 2, 3]
    assert ranks.gather_dicts(lambda: {"a": 1}) == {"a": 1}
    assert not is_sharded(model) and not is_sharded(None)
    assert not ranks.lockstep(model) and ranks.generate_kwargs(model) == {}


def test_row_sharded_option_scoring_equals_plain_scoring_in_one_process(tiny_model_factory, tiny_tokenizer):
    model = tiny_model_factory(0)
    suite = load_suite("compact")
    probes = [p for p in suite if p.kind == "choice"][:6] + [p for p in suite if p.expect == "refuse"][:2]
    requests = probe_option_requests(probes) + margin_requests(probes)
    with probing_mode(model, tiny_tokenizer):
        plain = score_options(model, tiny_tokenizer, requests, batch_size=4)
        ranked = score_options_on_ranks(model, tiny_tokenizer, requests, batch_size=4, ranks=Ranks())
    assert ranked == plain and len(plain) == len(requests)
