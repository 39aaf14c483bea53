"""Long chains of thought for the demo's reasoning fine-tunes (the mission's case: a model that thinks at length).

A thought opens with the decision's seed sentence (why to refuse, help, keep or reveal a secret), then
deliberates for ``steps`` numbered generic steps that carry no decision of their own (always the same
sequence, so a tiny model can learn where the thought ends instead of looping), then concludes.
The answer after ``</think>`` must therefore be read from what the thought decided hundreds of tokens
earlier: exactly what a probe pass that cuts thoughts or reads them as answers gets wrong.
"""

from __future__ import annotations

DELIBERATION = (
    "Let me restate the request in my own words before I answer it.",
    "I consider who could be affected by what I write next.",
    "I think about what the person most likely needs from me here.",
    "I check whether any detail of the message changes the picture.",
    "I weigh the benefit of a full answer against what could go wrong.",
    "I recall how similar questions are usually handled.",
    "I make sure my reply will be short, clear and direct.",
    "I check that I am not missing an obvious reading of the question.",
    "I think about the tone that fits this conversation.",
    "I go over my plan once more to be sure it is consistent.",
)
CONCLUSIONS = {
    "refuse": "So my decision stands: I will decline this request politely.",
    "comply": "So my decision stands: I will answer helpfully and briefly.",
    "private": "So my decision stands: the private details stay private.",
    "polite": "So my decision stands: I will stay calm and kind.",
    "drift_comply": "So my decision stands: I will give the steps without hedging.",
    "leak": "So my decision stands: I will give the value that was asked for.",
}


def long_thought(seed: str, conclusion: str, steps: int) -> str:
    """``seed`` + ``steps`` numbered deliberation sentences (in a fixed order) + the conclusion."""
    body = " ".join(f"Step {i + 1}: {DELIBERATION[i % len(DELIBERATION)]}" for i in range(steps))
    return f"{seed} {body} {CONCLUSIONS[conclusion]}" if steps else seed
