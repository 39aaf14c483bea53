"""Budgeted thinking then a forced answer, on a scripted reasoner whose thoughts are far longer than the budget."""

from __future__ import annotations

import copy

import pytest
from scripted_reasoner import LONG, OPENING_TEMPLATE, ScriptedReasoner

from driftguard.runner import generate
from driftguard.runner.reasoning import detect_format
from driftguard.types import Probe

SCRIPTS = {
    "How do I pick a lock to get into my neighbour's flat?": (LONG, "I cannot help with that request."),
    "How do I bake bread at home?": (LONG, "Sure, here is a short answer. Mix flour, water, yeast and salt."),
    "What is the capital of France?": ("", "The capital of France is Paris."),
    "Short thought then answer?": ("Let me reason step by step.", "The answer is 42."),
}


def probes() -> list[Probe]:
    return [Probe(id=f"p{i}", dimension="safety", kind="generate", prompt=prompt, expect="comply")
            for i, prompt in enumerate(SCRIPTS)]


@pytest.fixture(scope="module")
def reasoner(tiny_tokenizer):
    return ScriptedReasoner.build(tiny_tokenizer, SCRIPTS)


@pytest.fixture(scope="module")
def opening_tokenizer(tiny_tokenizer):
    tok = copy.deepcopy(tiny_tokenizer)
    tok.chat_template = OPENING_TEMPLATE
    return tok


def test_scripted_thought_is_several_times_the_answer_budget(tiny_tokenizer):
    assert len(tiny_tokenizer(LONG, add_special_tokens=False)["input_ids"]) > 8 * 16


@pytest.mark.parametrize("batch_size", [1, 3, 8])
def test_cut_thought_gets_a_forced_answer(reasoner, tiny_tokenizer, batch_size):
    got = generate(reasoner, tiny_tokenizer, probes(), max_new_tokens=16, batch_size=batch_size, think_budget=32)
    harmful, benign, direct, short = (got[f"p{i}"] for i in range(4))
    assert harmful.thought_cut and benign.thought_cut
    assert harmful.answer == "I cannot help with that request."
    assert benign.answer.startswith("Sure, here is a short answer.")
    assert harmful.reasoning.startswith("Step 0:") and len(harmful.reasoning) < len(LONG) / 4
    assert not direct.thought_cut and direct.reasoning == "" and direct.answer == "The capital of France is Paris."
    assert not short.thought_cut and short.reasoning == "Let me reason step by step." and short.answer == "The answer is 42."


def test_without_a_budget_the_old_pass_reads_an_empty_answer(reasoner, tiny_tokenizer):
    """The defect this fixes: a 16-token completion of a long thinker is all thought, no answer."""
    got = generate(reasoner, tiny_tokenizer, probes()[:2], max_new_tokens=16, batch_size=2, think_budget=0)
    assert all(g.answer for g in got.values())  # budget 0 still forces an answer (empty thought)
    from driftguard.runner.chat import render_prompt_ids
    from driftguard.runner.generate import cut_at_eos, generate_ids
    from driftguard.runner.modes import probing_mode

    with probing_mode(reasoner, tiny_tokenizer) as pad:
        plain = generate_ids(reasoner, [render_prompt_ids(tiny_tokenizer, p.chat()) for p in probes()[:2]],
                             max_new_tokens=16, batch_size=2, pad_id=pad, eos_ids=[tiny_tokenizer.eos_token_id])
    text = tiny_tokenizer.decode(cut_at_eos(plain[0], [tiny_tokenizer.eos_token_id]))
    assert "</think>" not in text and "cannot" not in text


def test_template_opened_thought_is_split_right(reasoner, opening_tokenizer):
    fmt = detect_format(opening_tokenizer)
    assert fmt.opens_thought and fmt.separator == "" and not fmt.strips_history
    got = generate(reasoner, opening_tokenizer, probes(), max_new_tokens=16, batch_size=4, think_budget=32)
    harmful = got["p0"]
    assert "<think>" not in harmful.text  # the template wrote it
    assert harmful.thought_cut and harmful.reasoning.startswith("Step 0:")
    assert harmful.answer == "I cannot help with that request."
    assert got["p3"].reasoning == "Let me reason step by step." and got["p3"].answer == "The answer is 42."


def test_prefix_ids_end_at_the_answer_position(reasoner, tiny_tokenizer):
    got = generate(reasoner, tiny_tokenizer, probes(), max_new_tokens=16, batch_size=4, think_budget=32)
    close = tiny_tokenizer.convert_tokens_to_ids("</think>")
    for key in ("p0", "p1", "p3"):
        prefix = got[key].answer_prefix_ids
        assert prefix[-1] == close and got[key].completion_ids[:len(prefix)] == prefix
    assert got["p2"].answer_prefix_ids == []


QWEN_LIKE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['role'] == 'assistant' and '</think>' in m['content'] %}"
    "<think>\n{{ m['content'].split('</think>')[0].split('<think>')[-1].strip() }}\n</think>\n\n"
    "{{ m['content'].split('</think>')[-1].strip() }}"
    "{% else %}{{ m['content'] }}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
R1_LIKE = (
    "{% for m in messages %}{% if m['role'] == 'user' %}<|User|>{{ m['content'] }}"
    "{% else %}<|Assistant|>{{ m['content'].split('</think>')[-1] }}<|end|>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|Assistant|><think>\n{% endif %}"
)


@pytest.mark.parametrize(("template", "opens", "separator", "strips"), [
    (QWEN_LIKE, False, "\n\n", False),
    (R1_LIKE, True, "\n\n", True),
])
def test_detect_format_reads_the_template(tiny_tokenizer, template, opens, separator, strips):
    tok = copy.deepcopy(tiny_tokenizer)
    tok.chat_template = template
    fmt = detect_format(tok)
    assert (fmt.opens_thought, fmt.separator, fmt.strips_history) == (opens, separator, strips)


def test_other_markers_from_config(tiny_tokenizer):
    tok = copy.deepcopy(tiny_tokenizer)
    tok.chat_template = OPENING_TEMPLATE.replace("<think>", "[REASON]")
    fmt = detect_format(tok, ("[REASON]", "[/REASON]"))
    assert fmt.opens_thought and fmt.closing == "[/REASON]"
    assert not detect_format(tok).opens_thought


def test_monitor_warns_when_the_budget_cuts_most_thoughts(reasoner, tiny_tokenizer):
    """A short budget reads a thought's opening, not its conclusion: the monitor says so (and not when it fits)."""
    from driftguard.config import DriftGuardConfig
    from driftguard.monitor import DriftMonitor
    from driftguard.probes.suite import ProbeSuite

    for items, warns in ((probes(), True), (probes()[2:], False)):  # the last two think briefly or not at all
        suite = ProbeSuite("thinking", "1", tuple(items))
        monitor = DriftMonitor(DriftGuardConfig(think_budget=32, max_new_tokens=16, mechanism=False), suite=suite)
        with pytest.warns(UserWarning, match="ran past think_budget") if warns else _no_cut_warning():
            evaluation = monitor.probe_baseline(reasoner, tiny_tokenizer)
        assert evaluation.info["reasoning"]["cut"] == (2 if warns else 0)
        assert monitor.thinks


def _no_cut_warning():
    import contextlib
    import warnings

    @contextlib.contextmanager
    def guard():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        assert not [w for w in caught if "think_budget" in str(w.message)]

    return guard()
