"""A real byte-level BPE tokenizer where ``</think>`` is several ordinary tokens and ``>\\n\\n`` merges
(Qwen2 / Llama-3 pre-tokenisation: punctuation takes the newlines after it), trained in-process, and a
scripted model over it that writes ``<think>thought</think>\\n\\nanswer`` in that tokenizer's own tokens."""

from __future__ import annotations

import torch
from transformers import GenerationMixin, PretrainedConfig, PreTrainedModel, PreTrainedTokenizerFast
from transformers.modeling_outputs import CausalLMOutputWithPast

SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
         r"|\s*[\r\n]+|\s+(?!\S)|\s+")
TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|>{% endif %}")
THOUGHT, ANSWER = "Let me reason step by step.", "The answer is 42."
TEXT = f"<think>{THOUGHT}</think>\n\n{ANSWER}"


def build_bpe_tokenizer() -> PreTrainedTokenizerFast:
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    special = ["<pad>", "<|end|>", "<|user|>", "<|assistant|>"]
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=special, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([f"<|user|>Q?<|end|><|assistant|>{TEXT}<|end|>"] * 50, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|end|>", pad_token="<pad>",
                                   additional_special_tokens=special[2:])
    fast.chat_template = TEMPLATE
    return fast


class BpeConfig(PretrainedConfig):
    model_type = "driftguard-bpe-reasoner"


class BpeReasoner(PreTrainedModel, GenerationMixin):
    """Greedy continuation of any prompt: ``TEXT`` then EOS, in canonical tokens. A continuation that left
    the script with the same text (a close marker written by someone else) is answered from the text."""

    config_class = BpeConfig

    def __init__(self, config: BpeConfig, tokenizer=None, turn: str = "<|assistant|>"):
        super().__init__(config)
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.tok = tokenizer
        self.turn = self._encode(turn)  # the tokens that open the assistant's turn: the script starts after them
        self.script = self._encode(TEXT) + [tokenizer.eos_token_id]
        self.head = TEXT[:TEXT.index(ANSWER)]
        self.answer = self._encode(ANSWER) + [tokenizer.eos_token_id]

    def _encode(self, text: str) -> list[int]:
        return list(self.tok(text, add_special_tokens=False)["input_ids"])

    @classmethod
    def build(cls, tokenizer, turn: str = "<|assistant|>") -> BpeReasoner:
        config = BpeConfig(vocab_size=len(tokenizer), eos_token_id=tokenizer.eos_token_id,
                           pad_token_id=tokenizer.pad_token_id, num_hidden_layers=1, hidden_size=4,
                           num_attention_heads=1)
        return cls(config, tokenizer, turn).eval()

    def _turn_start(self, seq: list[int]) -> int | None:
        """Where the script starts in ``seq``: after the last occurrence of the turn's tokens."""
        n = len(self.turn)
        return next((j + n for j in range(len(seq) - n, -1, -1) if seq[j:j + n] == self.turn), None)

    def prepare_inputs_for_generation(self, input_ids, attention_mask=None, **kwargs):
        return {"input_ids": input_ids, "attention_mask": attention_mask, "logits_to_keep": 1}

    def _next(self, gen: list[int]) -> int:
        if gen == self.script[:len(gen)]:
            return self.script[len(gen)] if len(gen) < len(self.script) else self.config.eos_token_id
        text = self.tok.decode(gen)
        if text.startswith(self.head):
            rest = text[len(self.head):]
            for j in range(len(self.answer)):
                if self.tok.decode(self.answer[:j]) == rest:
                    return self.answer[j]
        return self.config.eos_token_id

    def forward(self, input_ids, attention_mask=None, logits_to_keep: int = 0, **kwargs):
        batch, width = input_ids.shape
        keep = logits_to_keep or width
        logits = torch.zeros(batch, keep, self.config.vocab_size)
        for b in range(batch):
            row = input_ids[b].tolist()
            for j in range(keep):
                seq = row[:width - keep + j + 1]
                start = self._turn_start(seq)
                if start is not None:
                    logits[b, j, self._next(seq[start:])] = 20.0
        return CausalLMOutputWithPast(logits=logits)


def pieces(tok, text: str) -> list[str]:
    """``text`` as the tokenizer's tokens, each decoded."""
    return [tok.decode([i]) for i in tok(text, add_special_tokens=False)["input_ids"]]


def think_then_answer_one(tok, model, probe, fmt, mode: str, think_budget: int):
    """The two-phase pass on one probe's rendered prompt (answer budget 16, greedy): its ``Completion``."""
    from driftguard.runner.chat import render_prompt_ids
    from driftguard.runner.modes import probing_mode
    from driftguard.runner.thinking import think_then_answer

    prompt = render_prompt_ids(tok, probe.chat())
    with probing_mode(model, tok) as pad:
        (got,), _ = think_then_answer(model, tok, [prompt], fmt, mode=mode, think_budget=think_budget,
                                      answer_budget=16, batch_size=1, pad_id=pad, eos_ids=[tok.eos_token_id])
    return got


def cut_inside_close(tok) -> int:
    """A think budget that stops the script's thought after the first token of its close marker (``<`` or ``</``)."""
    script = tok(f"<think>{THOUGHT}</think>", add_special_tokens=False)["input_ids"]
    opened = next(n for n in range(1, len(script)) if tok.decode(script[:n]).startswith("<think>"))
    inside = next(n for n in range(opened, len(script)) if tok.decode(script[:n]).endswith(("<", "</")))
    return inside - opened
