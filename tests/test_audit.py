"""`driftguard audit`: model vs reference (or a PEFT adapter vs its base), report files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from driftguard.cli import main
from driftguard.demo.tiny_model import save_pretrained

MINI_SUITE = str(Path(__file__).parent / "fixtures" / "mini_suite.jsonl")
ARGS = ["--suite", MINI_SUITE, "--device", "cpu", "--max-new-tokens", "8", "--batch-size", "8"]


@pytest.fixture(scope="module")
def other_model_dir(tiny_model_factory, tiny_tokenizer, tmp_path_factory):
    return save_pretrained(tiny_model_factory(5), tiny_tokenizer, tmp_path_factory.mktemp("other") / "model")


def test_audit_against_itself_passes_with_zero_kl(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "audit"
    assert main(["audit", "--model", str(tiny_model_dir), "--reference", str(tiny_model_dir), "--out", str(out), *ARGS]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "pass" and report["regressions"] == [] and report["errors"] == []
    assert report["kl"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert (out / "report.md").read_text().startswith("#")
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_audit_cached_reference_mode(tiny_model_dir, other_model_dir, tmp_path):
    out = tmp_path / "audit"
    code = main(["audit", "--model", str(other_model_dir), "--reference", str(tiny_model_dir), "--out", str(out),
                 "--reference-mode", "cached", *ARGS])
    report = json.loads((out / "report.json").read_text())
    assert code == (1 if report["verdict"] == "fail" else 0)
    assert report["kl"]["reference"] == "cached" and report["kl"]["mean"] > 1e-3


def test_audit_peft_adapter_against_its_base(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter = tmp_path / "adapter"
    model.save_pretrained(adapter)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(adapter)
    out = tmp_path / "audit"
    main(["audit", "--model", str(adapter), "--out", str(out), *ARGS])
    report = json.loads((out / "report.json").read_text())
    assert report["kl"]["reference"] == "adapter" and report["kl"]["mean"] > 0
    assert "adapter disabled" in report["reference"]


def test_audit_bad_input_exits_2(tiny_model_dir, tmp_path, capsys):
    assert main(["audit", "--model", str(tmp_path / "missing"), "--reference", str(tiny_model_dir), *ARGS]) == 2
    assert "not a directory" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "dimension": "safety", "kind": "generate"}\n')
    assert main(["audit", "--model", str(tiny_model_dir), "--reference", str(tiny_model_dir), "--out", str(tmp_path / "o"),
                 "--suite", str(bad), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl:1: field 'prompt'" in err


def test_audit_model_without_chat_template_is_a_clear_error(tiny_model_dir, tmp_path, capsys):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    plain = tmp_path / "plain"
    AutoModelForCausalLM.from_pretrained(tiny_model_dir).save_pretrained(plain)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.chat_template = None
    tok.save_pretrained(plain)
    for leftover in plain.glob("chat_template.*"):
        leftover.unlink()
    with torch.no_grad():
        code = main(["audit", "--model", str(plain), "--reference", str(plain), "--out", str(tmp_path / "o"), *ARGS])
    assert code == 2
    assert "tokenizer.chat_template" in capsys.readouterr().err
