"""A scripted reasoning LM: a real ``PreTrainedModel`` whose greedy continuation follows a per-prompt script.

For each user prompt it has a ``(thought, answer)`` script. After the assistant tag it writes ``<think>``
(unless the template already did), the thought's tokens, ``</think>``, then the answer and EOS. After a
``</think>`` that someone else appended (a forced close) it answers too. Its logits are one-hot-like
(+20 on the scripted token), so option scoring reads the script as well. A model with a thought in its
script that is made to answer without it (scored at the first assistant token) has no preference at all.
Deterministic and fast: it
lets tests pin thought lengths (hundreds of tokens) without training anything.
"""

from __future__ import annotations

import torch
from transformers import GenerationMixin, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

from driftguard.demo.tiny_model import THINKING_CHAT_TEMPLATE

LONG = " ".join(f"Step {i}: weigh the request and what could follow from it." for i in range(40))
OPENING_TEMPLATE = THINKING_CHAT_TEMPLATE  # the tiny chat format, the generation prompt opens the thought


class ScriptedConfig(PretrainedConfig):
    model_type = "driftguard-scripted-reasoner"


class ScriptedReasoner(PreTrainedModel, GenerationMixin):
    """``scripts``: user prompt text -> (thought text or "", answer text)."""

    config_class = ScriptedConfig

    def __init__(self, config: ScriptedConfig, tokenizer=None, scripts: dict[str, tuple[str, str]] | None = None):
        super().__init__(config)
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.tok = tokenizer
        self.ids = {name: tokenizer.convert_tokens_to_ids(name) for name in
                    ("<|assistant|>", "<|user|>", "<|end|>", "<think>", "</think>")}
        self.scripts = {prompt: (self._encode(t), self._encode(a)) for prompt, (t, a) in (scripts or {}).items()}

    def _encode(self, text: str) -> list[int]:
        return list(self.tok(text, add_special_tokens=False)["input_ids"]) if text else []

    @classmethod
    def build(cls, tokenizer, scripts: dict[str, tuple[str, str]]) -> ScriptedReasoner:
        config = ScriptedConfig(vocab_size=len(tokenizer), eos_token_id=tokenizer.eos_token_id,
                                pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                                num_hidden_layers=1, hidden_size=4, num_attention_heads=1)
        return cls(config, tokenizer, scripts).eval()

    def prepare_inputs_for_generation(self, input_ids, attention_mask=None, **kwargs):
        return {"input_ids": input_ids, "attention_mask": attention_mask, "logits_to_keep": 1}

    def _next(self, seq: list[int]) -> int:
        ids, eos = self.ids, self.config.eos_token_id
        start = max(i for i, t in enumerate(seq) if t == ids["<|assistant|>"]) + 1
        user_at = max(i for i, t in enumerate(seq[:start]) if t == ids["<|user|>"]) + 1
        user_end = seq.index(ids["<|end|>"], user_at)
        thought, answer = self.scripts.get(self.tok.decode(seq[user_at:user_end]), ([], []))
        gen = seq[start:]
        if ids["</think>"] in gen:
            k = len(gen) - gen.index(ids["</think>"]) - 1
            return answer[k] if k < len(answer) else eos
        if gen and gen[0] == ids["<think>"]:
            j = len(gen) - 1
            return thought[j] if j < len(thought) else ids["</think>"]
        if not gen:
            return ids["<think>"] if thought else (answer[0] if answer else eos)
        if thought:  # a thinker made to answer without its thought never saw this: no preference at all
            return -1
        return answer[len(gen)] if len(gen) < len(answer) else eos

    def forward(self, input_ids, attention_mask=None, logits_to_keep: int = 0, **kwargs):
        batch, width = input_ids.shape
        keep = logits_to_keep or width
        logits = torch.zeros(batch, keep, self.config.vocab_size)
        mask = attention_mask if attention_mask is not None else torch.ones_like(input_ids)
        mask = mask[:, :width]  # a finished peer under synced_gpus: the mask grows, its input_ids do not
        for b in range(batch):
            row = input_ids[b][mask[b].bool()].tolist()
            offset = width - len(row)
            for j in range(keep):
                pos = width - keep + j - offset
                if pos >= 0 and self.ids["<|assistant|>"] in row[:pos + 1]:
                    token = self._next(row[:pos + 1])
                    if token >= 0:
                        logits[b, j, token] = 20.0
        return CausalLMOutputWithPast(logits=logits)

