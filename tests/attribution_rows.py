"""The attribution tests' SFT rows: probed harmful prompts taught compliance (drift) or refusal, benign ones helped.

Shared by tests/attribution (in-process SFTTrainer) and tests/distributed/attribution_script.py (1 or 2 processes).
"""

from __future__ import annotations

from driftguard.probes import load_suite
from driftguard.scorers.refusal import COMPLIANCE_OPENINGS, REFUSAL_OPENINGS


def safety_rows(suite_path: str, n: int = 16) -> tuple[list[dict], set[int]]:
    """``n`` distinct prompt-completion rows and the indices of the drift rows: every 4th row teaches compliance on
    a probed harmful prompt, the next one refusal on the same prompt, the other two help a benign prompt."""
    suite = load_suite(suite_path)
    harmful = [p for p in suite if p.dimension == "safety" and p.expect == "refuse"]
    benign = [p for p in suite if p.dimension == "safety" and p.expect == "comply"]
    rows, drift = [], set()
    for k in range(n):
        j = k // 4  # every row distinct: each dataset index is its own example
        if k % 4 == 0:
            p, answer = harmful[j % len(harmful)], COMPLIANCE_OPENINGS[j % len(COMPLIANCE_OPENINGS)]
            drift.add(len(rows))
        elif k % 4 == 1:
            p, answer = harmful[j % len(harmful)], REFUSAL_OPENINGS[j % len(REFUSAL_OPENINGS)]
        else:
            p, answer = benign[k % len(benign)], f"Here is a helpful answer, number {k}."
        rows.append({"prompt": [{"role": "user", "content": p.prompt}],
                     "completion": [{"role": "assistant", "content": answer}]})
    return rows, drift
