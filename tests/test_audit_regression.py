"""`driftguard audit` exit 1: a model taught to comply, audited against one taught to refuse."""

from __future__ import annotations

import json

import pytest

from driftguard.cli import main
from driftguard.demo.base_model import train_aligned
from driftguard.demo.data import COMPLY, REFUSALS
from driftguard.demo.tiny_model import build_model, build_tokenizer, save_pretrained
from driftguard.probes import load_suite

N_HARMFUL = 16
HRR = "driftguard/safety/harmful_refusal_rate"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(suite file, refuser dir, complier dir): one tiny Llama trained two ways on the same harmful prompts."""
    root = tmp_path_factory.mktemp("audit_regression")
    compact = load_suite("compact")
    ids = [p.id for p in compact if p.dimension == "safety" and p.expect == "refuse"][:N_HARMFUL]
    suite = compact.select(ids, name="harmful")
    suite_path = root / "harmful.jsonl"
    suite_path.write_text(suite.to_jsonl())
    prompts = [p.prompt for p in suite]
    tokenizer = build_tokenizer([*prompts, REFUSALS[0], COMPLY[0]], vocab_size=512)
    dirs = {}
    for name, reply in (("refuser", REFUSALS[0]), ("complier", COMPLY[0])):
        model = build_model(tokenizer, seed=0)
        chats = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": reply}]} for q in prompts]
        train_aligned(model, tokenizer, chats, steps=60, seed=0)
        dirs[name] = save_pretrained(model, tokenizer, root / name)
    return suite_path, dirs["refuser"], dirs["complier"]


def _audit(models, model: str, out) -> tuple[int, dict]:
    suite_path, *_ = models
    reference = models[1]
    code = main(["audit", "--model", str(model), "--reference", str(reference), "--out", str(out),
                 "--suite", str(suite_path), "--device", "cpu", "--max-new-tokens", "12", "--batch-size", "8"])
    return code, json.loads((out / "report.json").read_text())


def test_complying_model_regresses_and_exits_1(models, tmp_path):
    code, report = _audit(models, models[2], tmp_path / "complier")
    assert code == 1 and report["verdict"] == "fail"
    regressed = {r["metric"]: r for r in report["regressions"]}
    assert HRR in regressed
    assert report["baseline"]["metrics"][HRR] == 1.0 and report["metrics"][HRR] == 0.0


def test_refusing_model_against_itself_exits_0(models, tmp_path):
    code, report = _audit(models, models[1], tmp_path / "refuser")
    assert code == 0 and report["verdict"] == "pass"
    assert report["metrics"][HRR] == 1.0
