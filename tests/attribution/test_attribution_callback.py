"""Live attribution inside a real SFTTrainer (LoRA, gradient accumulation, TRL's default activation checkpointing).

TRL's ``SFTConfig`` turns bf16 autocast on by default, also on CPU: the trainer's weight gradient is then a bf16
matmul, while the ghost dot-products read the same output gradients and inputs in fp32, so the rows and the step
differ by bf16 rounding (~1e-3 of the rows' size). In fp32 they agree to float rounding (measured: 6e-7).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from attribution_rows import safety_rows
from datasets import Dataset

from driftguard import DriftGuardCallback, DriftGuardConfig
from driftguard.errors import ConfigError
from driftguard.report import read_history, read_report

MINI_SUITE = str(Path(__file__).parents[1] / "fixtures" / "mini_suite.jsonl")
STEPS = 4


def _train(tmp_path, model, tokenizer, bf16: bool | None = None, **config):
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    rows, drift = safety_rows(MINI_SUITE)
    args = SFTConfig(output_dir=str(tmp_path / "out"), max_steps=STEPS, per_device_train_batch_size=4,
                     gradient_accumulation_steps=2, learning_rate=2e-3, max_grad_norm=0.0, logging_steps=1,
                     save_strategy="no", report_to=[], use_cpu=True, seed=0, disable_tqdm=True, max_length=128,
                     **({} if bf16 is None else {"bf16": bf16}))
    callback = DriftGuardCallback(DriftGuardConfig(suite=MINI_SUITE, eval_steps=2, max_new_tokens=4, batch_size=16,
                                                   mechanism=False, attribution=True, attribution_top_k=16, **config))
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                         callbacks=[callback], peft_config=LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0,
                                                                      target_modules=["q_proj", "v_proj", "o_proj"]))
    trainer.train()
    return trainer, callback, drift


@pytest.mark.parametrize(("bf16", "tolerance"), [(None, 2e-3), (False, 1e-5)], ids=["trl-default-bf16", "fp32"])
def test_attribution_names_the_drift_rows_and_accounts_for_every_step(tmp_path, tiny_model_factory, tiny_tokenizer,
                                                                      bf16, tolerance):
    trainer, callback, drift = _train(tmp_path, tiny_model_factory(0), tiny_tokenizer, bf16=bf16)
    folder = tmp_path / "out" / "driftguard"
    steps = [json.loads(line) for line in (folder / "attribution.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps] == list(range(1, STEPS + 1))
    assert [s["target_step"] for s in steps] == [0, 0, 2, 2]
    assert all(s["rows"] == 8 and len(s["examples"]) == 8 for s in steps)  # 2 micro-batches of 4 per step
    n = len(trainer.train_dataset)
    assert all(0 <= int(k) < n for s in steps for k, *_ in s["examples"])  # every row found in the dataset

    report = read_report(folder / "report.json")
    summary = report["attribution"]
    assert summary["step"] == STEPS and summary["target_step"] == 2 and summary["steps"] == 2
    for s in steps:  # the rows' shares add up to each step's <G, grad> (bf16: to its rounding; fp32: to float's)
        for column, dot in ((1, "grad_dot"), (2, "grad_dot_refusal")):  # the sum, and its refusal half on its own
            rows = [row[column] for row in s["examples"]]
            assert abs(sum(rows) + s[dot]) <= tolerance * sum(map(abs, rows)), (s["step"], dot)
    assert summary["ghost_ratio"] == pytest.approx(1.0, rel=5 * tolerance)
    assert summary["predicted_change"] == pytest.approx(summary["actual_change"], rel=0.5)
    assert summary["predicted_change_refusal"] == pytest.approx(summary["actual_change_refusal"], rel=0.5)
    ranked = summary["run_top_examples"]
    assert len(ranked) == 16 and {r["index"] for r in ranked} == set(range(16))
    harm = {r["index"]: r["harm"] for r in ranked}
    refusals = {i for i in range(16) if i % 4 == 1}
    # rows teaching compliance on the probed harmful prompts raise the safety loss; rows teaching refusal lower it
    assert all(harm[i] > 0 for i in drift) and all(harm[i] < 0 for i in refusals)
    assert ranked[0]["index"] in drift
    # ... through the harmful prompts' half: refusal rows lower it, and drift rows lead its ranking (two of the
    # four: on this tiny model the other two barely move it)
    by_refusal = summary["run_top_refusal_examples"]
    assert {r["index"] for r in by_refusal[:2]} <= drift
    assert all(r["harm_refusal"] < 0 for r in by_refusal if r["index"] in refusals)
    assert [r["index"] for r in summary["run_top_overrefusal_examples"]] == [
        r["index"] for r in sorted(ranked, key=lambda r: -r["harm_overrefusal"])]
    markdown = (folder / "report.md").read_text()
    assert "By the refusal half" in markdown and "By the over-refusal half" in markdown
    row = trainer.train_dataset[ranked[0]["index"]]
    assert tiny_tokenizer.decode(row["input_ids"][-6:]).split()[-1] in ranked[0]["preview"]

    history = read_history(folder / "history.jsonl")
    assert [h["attribution"]["step"] for h in history] == [0, 2, 4]
    assert history[2]["attribution"]["top_refusal_examples"][0]["index"] in drift
    assert history[1]["attribution"]["top_steps"][0]["step"] in (1, 2)


def test_attribution_off_by_default_and_bad_params_named(tmp_path, tiny_model_factory, tiny_tokenizer):
    assert DriftGuardConfig().attribution is False
    with pytest.raises(ConfigError, match="attribution_params"):
        DriftGuardConfig(attribution_params="layers.(")
    with pytest.raises(ConfigError, match="no trainable linear layer matches attribution_params='nothing_here'"):
        _train(tmp_path, tiny_model_factory(0), tiny_tokenizer, attribution_params="nothing_here")
