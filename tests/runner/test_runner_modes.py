"""probing_mode restores everything it touches, also when the body raises and on a PEFT-wrapped model."""

from __future__ import annotations

import copy

import pytest
import torch
from runner_models import build_chat_model

from driftguard.errors import ModelSetupError
from driftguard.runner import probing_mode
from driftguard.runner.modes import eos_token_ids, pad_token_id


def checkpointing_flags(model) -> list[bool]:
    return [m.gradient_checkpointing for m in model.modules() if isinstance(getattr(m, "gradient_checkpointing", None), bool)]


def training_flags(model) -> list[bool]:
    return [m.training for m in model.modules()]


def prepare_training_state(model, tokenizer):
    """A model mid-training: train mode with one submodule deliberately in eval, checkpointing, no cache."""
    model.train()
    model.model.layers[1].mlp.eval()
    model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False
    tokenizer.padding_side = "right"


def probe_body(model, tokenizer, pad_id: int) -> None:
    assert not any(training_flags(model))
    assert not any(checkpointing_flags(model))
    assert model.config.use_cache is True
    assert tokenizer.padding_side == "left"
    assert not torch.is_grad_enabled()
    assert pad_id == tokenizer.pad_token_id


@pytest.mark.parametrize("raises", [False, True])
def test_restores_plain_model(tiny_tokenizer, raises):
    model, tokenizer = build_chat_model(tiny_tokenizer), copy.deepcopy(tiny_tokenizer)
    prepare_training_state(model, tokenizer)
    before = (training_flags(model), checkpointing_flags(model))
    assert any(before[1]) and not all(before[0])
    try:
        with probing_mode(model, tokenizer) as pad_id:
            probe_body(model, tokenizer, pad_id)
            if raises:
                raise RuntimeError("boom")
    except RuntimeError:
        assert raises
    assert (training_flags(model), checkpointing_flags(model)) == before
    assert model.config.use_cache is False and tokenizer.padding_side == "right" and torch.is_grad_enabled()
    assert model.is_activation_checkpointing
    # the checkpoint function (with its kwargs) survives: a training step still checkpoints and back-propagates
    loss = model(input_ids=torch.tensor([[5, 6, 7, 8]]), labels=torch.tensor([[5, 6, 7, 8]])).loss
    loss.backward()
    assert model.lm_head.weight.grad is not None


def test_restores_peft_wrapped_model(tiny_tokenizer):
    peft = pytest.importorskip("peft")
    base, tokenizer = build_chat_model(tiny_tokenizer), copy.deepcopy(tiny_tokenizer)
    base.activation_checkpointing_enable()
    base.config.use_cache = False
    model = peft.get_peft_model(base, peft.LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    model.train()
    tokenizer.padding_side = "right"
    before = (training_flags(model), checkpointing_flags(model), [p.requires_grad for p in model.parameters()])
    with pytest.raises(ValueError, match="inside"), probing_mode(model, tokenizer) as pad_id:
        probe_body(model, tokenizer, pad_id)
        raise ValueError("inside")
    assert (training_flags(model), checkpointing_flags(model), [p.requires_grad for p in model.parameters()]) == before
    assert base.config.use_cache is False and tokenizer.padding_side == "right" and model.training


def test_pad_token_borrowed_from_eos_and_removed_after(tiny_tokenizer):
    model, tokenizer = build_chat_model(tiny_tokenizer), copy.deepcopy(tiny_tokenizer)
    tokenizer.pad_token = None
    model.generation_config.pad_token_id = None
    with probing_mode(model, tokenizer) as pad_id:
        assert pad_id == tokenizer.eos_token_id == tokenizer.pad_token_id
    assert tokenizer.pad_token is None


def test_nested_probing_modes_restore_the_outer_state(tiny_tokenizer):
    model, tokenizer = build_chat_model(tiny_tokenizer), copy.deepcopy(tiny_tokenizer)
    prepare_training_state(model, tokenizer)
    with probing_mode(model, tokenizer):
        with probing_mode(model, tokenizer):
            pass
        assert not model.training and tokenizer.padding_side == "left"
    assert model.training and tokenizer.padding_side == "right" and model.config.use_cache is False


def test_eos_and_pad_resolution(tiny_tokenizer):
    model, tokenizer = build_chat_model(tiny_tokenizer), copy.deepcopy(tiny_tokenizer)
    model.generation_config.eos_token_id = [tokenizer.eos_token_id, 7]
    assert eos_token_ids(model, tokenizer) == [tokenizer.eos_token_id, 7]
    tokenizer.pad_token = None
    tokenizer.eos_token = None
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = None
    with pytest.raises(ModelSetupError, match="pad_token"):
        pad_token_id(model, tokenizer)


def test_eos_ids_are_the_union_of_generation_config_and_tokenizer():
    """Issue 14 defect 8: a chat template's end-of-turn token known only to the tokenizer was ignored."""
    class _Cfg:
        eos_token_id = 5  # e.g. <|endoftext|>

    class _Model:
        generation_config = _Cfg()

    class _Tok:
        eos_token_id = 9  # e.g. <|im_end|>, the chat template's end of turn

    assert eos_token_ids(_Model(), _Tok()) == [5, 9]
    _Cfg.eos_token_id = [9, 5]
    assert eos_token_ids(_Model(), _Tok()) == [9, 5]  # no repeats, generation config first
