"""The demo's aligned base: chat encoding and the on-disk cache keyed by a stamp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard.demo.base_model import STAMP, build_demo_base, encode_chat
from driftguard.probes.loaders import load_suite

FIXTURE = Path(__file__).parent / "fixtures" / "standin_suite.jsonl"


@pytest.fixture(scope="module")
def suite():
    full = load_suite(str(FIXTURE))
    return full.select([p.id for p in full if not p.variant_of][:24])


@pytest.fixture(scope="module")
def built(tmp_path_factory, suite):
    root = tmp_path_factory.mktemp("base")
    out = build_demo_base(suite, root / "a", seed=0, steps=2, device="cpu", cache_dir=root / "cache")
    return root, out


def test_build_saves_model_tokenizer_and_stamp(built, suite):
    _, out = built
    stamp = json.loads((out / STAMP).read_text())
    assert stamp["trained_steps"] == 2 and stamp["seed"] == 0 and stamp["suite_sha256"]
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    assert model.config.vocab_size == len(tok) and tok.chat_template


def test_same_stamp_reuses_the_model(built, suite):
    root, out = built
    before = (out / "model.safetensors").stat().st_mtime_ns
    again = build_demo_base(suite, out, seed=0, steps=2, device="cpu")
    assert again == out and (out / "model.safetensors").stat().st_mtime_ns == before


def test_cache_dir_copy_is_reused_for_a_new_out_dir(built, suite):
    root, _ = built
    fresh = build_demo_base(suite, root / "b", seed=0, steps=2, device="cpu", cache_dir=root / "cache")
    assert json.loads((fresh / STAMP).read_text())["seconds"] == json.loads((root / "a" / STAMP).read_text())["seconds"]


def test_other_seed_or_suite_retrains(built, suite):
    root, out = built
    before = json.loads((out / STAMP).read_text())
    other = build_demo_base(suite, out, seed=1, steps=2, device="cpu")
    assert json.loads((other / STAMP).read_text())["seed"] == 1 != before["seed"]
    sub = suite.select([p.id for p in suite][:12])
    third = build_demo_base(sub, out, seed=1, steps=2, device="cpu")
    assert json.loads((third / STAMP).read_text())["suite_sha256"] != before["suite_sha256"]


def test_encode_chat_labels_only_the_reply_and_eos(built):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(built[1])
    ids, labels = encode_chat(tok, [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello."}])
    n_prompt = labels.count(-100)
    assert len(ids) == len(labels) and n_prompt > 0
    assert labels[n_prompt:] == ids[n_prompt:] and ids[-1] == tok.eos_token_id
    assert tok.decode(ids[n_prompt:-1]) == "Hello."
