"""Build the shipped probe suites (v2) from the authored content in this folder. Deterministic: same files every run.

    python tools/suites/build.py          # write driftguard/probes/data/{full,compact}.jsonl
    python tools/suites/build.py --check  # exit 1 when the committed files differ from a fresh build

``full`` holds every item; ``compact`` (the default suite) is a balanced subset (``compact_select.py``).
Every item carries ``template``: the unit it was generated from (items sharing one are not independent).
v1's files are kept in ``tools/suites/v1/`` for the shortcut audit's before/after comparison.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bias_templates  # noqa: E402
import ethics_items  # noqa: E402
import privacy_items  # noqa: E402
import robustness_items  # noqa: E402
import safety_items  # noqa: E402
import toxicity_items  # noqa: E402
from compact_select import build_compact  # noqa: E402

from driftguard.errors import ProbeSuiteError  # noqa: E402
from driftguard.probes.formats import ETHICS_LETTERS, choice_prompt, ethics_letter_prompt  # noqa: E402
from driftguard.probes.loaders import SHIPPED_VERSION, parse_probe  # noqa: E402
from driftguard.probes.suite import ProbeSuite  # noqa: E402
from driftguard.types import Probe  # noqa: E402

DATA_DIR = HERE.parents[1] / "driftguard" / "probes" / "data"
SEED = "driftguard-suites-v2"
Obj = dict[str, Any]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------- safety
def _safety(item_id: str, prompt: str | list, expect: str, category: str, template: str | None = None, **extra: Any) -> Obj:
    obj: Obj = {"id": item_id, "dimension": "safety", "kind": "generate", "expect": expect, "category": category,
                "template": template or item_id, **extra}
    obj["messages" if isinstance(prompt, list) else "prompt"] = prompt
    if expect == "refuse" and category == "self_harm":
        obj["safe_completion"] = True
    return obj


def safety_objs() -> list[Obj]:
    """Harmful requests (refuse) and benign look-alikes carrying the same trigger words (comply)."""
    s = safety_items
    out = [_safety(f"s-h-{i:03d}", p, "refuse", c) for i, (c, p) in enumerate(s.HARMFUL, 1)]
    out += [_safety(f"s-b-{i:03d}", p, "comply", c) for i, (c, p) in enumerate(s.BENIGN, 1)]
    out += [_safety(f"s-nd-{i:02d}", p, "comply", "nonsense_discrimination") for i, p in enumerate(s.NONSENSE_DISCRIMINATION, 1)]
    out += [_safety(f"s-rd-{i:02d}", p, "refuse", "real_discrimination") for i, p in enumerate(s.REAL_DISCRIMINATION, 1)]
    out += [_safety(f"s-fp-{i:02d}", p, "comply", "fictional_privacy") for i, p in enumerate(s.FICTIONAL_PRIVACY, 1)]
    out += [_safety(f"s-rp-{i:02d}", p, "refuse", "real_privacy") for i, p in enumerate(s.REAL_PRIVACY, 1)]
    out += [_safety(f"s-du-{i:02d}", p, "comply", "dual_use", dual_use=True) for i, p in enumerate(s.DUAL_USE, 1)]
    for i, (harmful, benign) in enumerate(s.CONTRAST_PAIRS, 1):
        out += [_safety(f"s-cp-{i:02d}-h", harmful, "refuse", "contrast_pair", f"s-cp-{i:02d}"),
                _safety(f"s-cp-{i:02d}-b", benign, "comply", "contrast_pair", f"s-cp-{i:02d}")]
    for i, (harmful, benign) in enumerate(s.MULTI_TURN, 1):
        out += [_safety(f"s-mt-{i:02d}-h", harmful, "refuse", "multi_turn", f"s-mt-{i:02d}"),
                _safety(f"s-mt-{i:02d}-b", benign, "comply", "multi_turn", f"s-mt-{i:02d}")]
    return out


# ---------------------------------------------------------------- toxicity
def toxicity_objs() -> list[Obj]:
    """Unprompted items only: provocation-bait continuations, neutral continuations, identity questions."""
    prompts = {**{"continuation": toxicity_items.TOXICITY["continuation"]}, **toxicity_items.TOXICITY_V2}
    items = [(style, p) for style in toxicity_items.V2_STYLES for p in prompts[style]]
    return [{"id": f"t-{i:03d}", "dimension": "toxicity", "kind": "generate", "prompt": p, "category": style,
             "template": f"t-{i:03d}"} for i, (style, p) in enumerate(items, 1)]


# ---------------------------------------------------------------- bias
def _disamb(t: bias_templates.BiasTemplate, neg: str, pos: str, swap: bool) -> str:
    """The disambiguating sentence, its two clauses in template order or swapped."""
    i, j = t.disamb.index("{neg}"), t.disamb.index(", while {pos}")
    prefix, neg_clause, pos_clause = t.disamb[:i], t.disamb[i:j], t.disamb[j + len(", while "):].rstrip(".")
    first, second = (pos_clause, neg_clause) if swap else (neg_clause, pos_clause)
    return _cap((prefix + first + ", while " + second + ".").format(neg=neg, pos=pos))


def _bias_item(item_id: str, t: bias_templates.BiasTemplate, t_i: int, context: str, polarity: str, condition: str,
               answer_who: str | None, first: str, extra: Obj) -> Obj:
    """One choice item; ``answer_who`` is "target", "other" or None (unknown). The option order and the unknown
    phrase are drawn per *polarity pair* (``pair``: the same context asked the negative and the non-negative
    question), so any rule that ignores the question picks the same option in both items of a pair: once the
    stereotyped person, once the other one, once right, once wrong."""
    pair = item_id.rsplit("-", 1)[0] + f"-{extra['pair_key']}"
    rng = random.Random(f"{SEED}-{pair}")
    texts = {"target": _cap(t.target[1]), "other": _cap(t.other[1]),
             "unknown": rng.choice(bias_templates.UNKNOWN_PHRASES)}
    order = ["target", "other", "unknown"]
    rng.shuffle(order)
    stereotyped = "target" if polarity == "neg" else "other"
    question = t.neg_q if polarity == "neg" else t.pos_q
    options = [texts[w] for w in order]
    return {"id": item_id, "dimension": "bias", "kind": "choice", "prompt": choice_prompt(context, question, options),
            "options": options, "answer": order.index(answer_who or "unknown"), "stereotyped": order.index(stereotyped),
            "condition": condition, "category": t.category, "question_polarity": polarity,
            "unknown_option": order.index("unknown"), "first_mentioned": order.index(first),
            "template": f"bias-{t_i:02d}", "pair": pair, **{k: v for k, v in extra.items() if k != "pair_key"}}


def bias_objs() -> list[Obj]:
    """Per template: 4 ambiguous items (2 mention orders x 2 question polarities) and 8 disambiguated ones (who did
    the negative act x mention order x polarity; the disambiguating clauses swapped in half), so that neither
    mention position nor clause position predicts the answer."""
    out: list[Obj] = []
    for t_i, t in enumerate(bias_templates.TEMPLATES, 1):
        n = 0
        for order in (0, 1):
            a, b = (t.target[0], t.other[0]) if order == 0 else (t.other[0], t.target[0])
            first = "target" if order == 0 else "other"
            for polarity in ("neg", "nonneg"):
                n += 1
                out.append(_bias_item(f"b-{t_i:02d}-amb-{n}", t, t_i, _cap(t.context.format(a=a, b=b)), polarity,
                                      "ambiguous", None, first, {"mention_order": order, "pair_key": f"amb{order}"}))
        refs = {"target": t.target[1], "other": t.other[1]}
        for neg_who in ("target", "other"):
            pos_who = "other" if neg_who == "target" else "target"
            for order in (0, 1):
                a, b = (t.target[0], t.other[0]) if order == 0 else (t.other[0], t.target[0])
                first = "target" if order == 0 else "other"
                context = _cap(t.context.format(a=a, b=b)) + " " + _disamb(t, refs[neg_who], refs[pos_who], order == 1)
                for polarity in ("neg", "nonneg"):
                    n += 1
                    answer_who = neg_who if polarity == "neg" else pos_who
                    stereo_who = "target" if polarity == "neg" else "other"
                    out.append(_bias_item(f"b-{t_i:02d}-dis-{n}", t, t_i, context, polarity, "disambiguated", answer_who,
                                          first, {"mention_order": order, "negative_act_by": neg_who,
                                                  "pair_key": f"dis{neg_who}{order}",
                                                  "clauses_swapped": order == 1,
                                                  "context_consistent": answer_who == stereo_who}))
    return out


# ---------------------------------------------------------------- ethics
def _ethics(item_id: str, scenario: str, core: str, wrong: bool, letter_of_wrong: int, **extra: Any) -> Obj:
    verdicts = list(ethics_items.VERDICTS) if letter_of_wrong == 0 else list(reversed(ethics_items.VERDICTS))
    answer = verdicts.index("wrong" if wrong else "not wrong")
    return {"id": item_id, "dimension": "ethics", "kind": "choice", "prompt": ethics_letter_prompt(scenario, verdicts),
            "options": list(ETHICS_LETTERS), "answer": answer, "option_texts": verdicts,
            "label": "wrong" if wrong else "not wrong", "scenario": scenario, "core": core,
            "template": extra.pop("template", item_id), **extra}


def ethics_objs() -> list[Obj]:
    """Plain wrong / not-wrong scenarios (short and long), every other one behind a neutral ", but" opener, and an
    evasive re-framing of every short wrong one (``evasive: true``), half of them without ", but"."""
    e = ethics_items
    plain = [(f"e-w-{i:03d}", s, True) for i, (s, _) in enumerate(e.WRONG, 1)]
    plain += [(f"e-n-{i:03d}", s, False) for i, s in enumerate(e.NOT_WRONG, 1)]
    plain += [(f"e-l-{i:03d}", s, w) for i, (s, w) in enumerate(e.LONG, 1)]
    out: list[Obj] = []
    count = {True: 0, False: 0}
    for item_id, core, wrong in plain:
        k = count[wrong]
        count[wrong] += 1
        opener = e.NEUTRAL_OPENERS[k % len(e.NEUTRAL_OPENERS)] if (k // 2) % 2 == 0 else None
        scenario = f"{opener} {core}" if opener else core
        out.append(_ethics(item_id, scenario, core, wrong, k % 2, opener=bool(opener), long=item_id.startswith("e-l")))
    for i, (core, excuse) in enumerate(e.WRONG, 1):
        k = i - 1
        form = e.EVASIVE_FORMS[0] if k % 2 == 0 else e.EVASIVE_FORMS[1 + (k // 4) % 2]
        bare = excuse.removeprefix("but ")
        scenario = form.format(scenario=core.rstrip("."), excuse=excuse, bare=bare)
        out.append(_ethics(f"e-x-{i:03d}", scenario, core, True, (k // 2) % 2, evasive=True, reframes=f"e-w-{i:03d}",
                           excuse=excuse, template=f"e-w-{i:03d}"))
    return out


# ---------------------------------------------------------------- privacy
def privacy_objs() -> list[Obj]:
    """Every frame x secret kind x wording, each with a fresh synthetic canary: explicit-norm frames (tier 2),
    inferred-norm frames (tier 3) and tier-4 frames with a public part that must still be shared."""
    p = privacy_items
    out: list[Obj] = []
    seen: set[str] = set()
    frames = [(f, a, s, w, None, "explicit", 2) for f, a, s, w in p.FRAMES]
    frames += [(f, a, s, w, None, "inferred", 3) for f, a, s, w in p.INFERRED_FRAMES]
    frames += [(f, a, s, w, draw, "inferred" if f == "utility_meeting_notes" else "explicit", 4)
               for f, a, s, draw, w in p.UTILITY_FRAMES]
    for f_i, (frame, asker, step_by_step, wordings, draw_public, norm, tier) in enumerate(frames):
        for k_i, kind in enumerate(p.SECRET_KINDS):
            for w, build in enumerate(wordings):
                rng = random.Random(f"{SEED}-privacy-{frame}-{kind.name}-{w}")
                name, subj, poss, obj = p.PEOPLE[(5 * f_i + 3 * k_i + w) % len(p.PEOPLE)]
                secret = kind.draw(rng)
                while secret in seen and kind.name != "diagnosis":  # every canary unique (diagnoses repeat by design)
                    secret = kind.draw(rng)
                seen.add(secret)
                public = draw_public(rng, secret) if draw_public else ""
                case = p.Case(name, subj, poss, obj, p.ORGS[(f_i + k_i + w) % len(p.ORGS)], kind.label, secret, public)
                item: Obj = {"id": f"p-{len(out) + 1:03d}", "dimension": "privacy", "kind": "generate",
                             "messages": build(case), "secret": secret, "category": kind.name, "frame": frame,
                             "asker": asker, "step_by_step": step_by_step, "norm": norm, "tier": tier,
                             "template": f"privacy-{frame}-{w}"}
                if public:
                    item["public"] = public
                    if public.startswith("+1 "):  # the number without its country code is the same public line
                        item["public_aliases"] = [public.removeprefix("+1 ")]
                if p.TRANSLATING_FRAMES.get(frame) == w and secret in p.DIAGNOSES_FR:
                    item["aliases"] = [p.DIAGNOSES_FR[secret]]
                out.append(item)
    return out


# ---------------------------------------------------------------- robustness
def _shift(text: str, kind: str, key: str, index: int, hand: dict[str, str]) -> str:
    r = robustness_items
    funcs = {"typos": lambda: r.typos(text, key), "formatting": lambda: r.formatting(text, index),
             "distractor": lambda: r.distractor(text, index), "roleplay": lambda: r.roleplay(text, index),
             "jailbreak_prefix": lambda: r.jailbreak_prefix(text, index), "hypothetical": lambda: r.hypothetical(text, index),
             "paraphrase": lambda: hand["paraphrase"], "translation": lambda: hand["translation"]}
    return funcs[kind]()


def robustness_objs(clean: list[Obj]) -> list[Obj]:
    """OOD shifts of clean safety prompts and ethics scenarios (hand sources: all five; extra sources: the generated
    three) and jailbreak framings of every harmful source. Variants share their source's ``template``."""
    r = robustness_items
    by_text = {o["prompt"]: o for o in clean if o["dimension"] == "safety" and "prompt" in o}
    by_text.update({o["core"]: o for o in clean if o["dimension"] == "ethics" and not o.get("evasive")})
    translations = {**r.SAFETY_TRANSLATIONS, **r.SAFETY_TRANSLATIONS_V2, **r.ETHICS_TRANSLATIONS}
    sources = [(t, r.OOD_SHIFTS) for t in translations] + [(t, r.AUTO_SHIFTS) for t in
                                                           (*r.EXTRA_SAFETY_SOURCES, *r.EXTRA_ETHICS_SOURCES)]
    out: list[Obj] = []
    for c_i, (text, kinds) in enumerate(sources):
        if text not in by_text:
            raise ProbeSuiteError(f"tools/suites/robustness_items.py: no clean item with text {text!r}; fix the key")
        src = by_text[text]
        if src["kind"] == "generate" and src["expect"] == "refuse":
            kinds = (*kinds, *r.JAILBREAKS)
        hand = {"paraphrase": r.PARAPHRASES.get(text, ""), "translation": translations.get(text, ("", ""))[1]}
        for kind in kinds:
            new = _shift(text, kind, f"{SEED}-{src['id']}", c_i, hand)
            obj: Obj = {"id": f"r-{len(out) + 1:03d}", "dimension": "robustness", "kind": src["kind"],
                        "variant_of": src["id"], "perturbation": kind, "source_dimension": src["dimension"],
                        "shift": "jailbreak" if kind in r.JAILBREAKS else "ood", "template": f"src-{src['id']}"}
            if kind == "translation":
                obj["language"] = translations[text][0]
            if src["kind"] == "generate":
                obj.update(prompt=new, expect=src["expect"])
            else:
                obj.update(prompt=ethics_letter_prompt(new, src["option_texts"]), options=list(src["options"]),
                           answer=src["answer"], option_texts=src["option_texts"], label=src["label"])
            out.append(obj)
    return out


def _parse(objs: Iterable[Obj], source: str) -> list[Probe]:
    return [parse_probe(o, source, i) for i, o in enumerate(objs, 1)]


def build_full() -> ProbeSuite:
    """Every authored item, validated through the loader's ``parse_probe``."""
    clean = safety_objs() + toxicity_objs() + bias_objs() + ethics_objs() + privacy_objs()
    objs = clean + robustness_objs(clean)
    return ProbeSuite("full", SHIPPED_VERSION, tuple(_parse(objs, "tools/suites/build.py")), source="full")


def render() -> dict[str, str]:
    """File name -> JSONL text of every shipped suite."""
    full = build_full()
    return {"full.jsonl": full.to_jsonl(), "compact.jsonl": build_compact(full).to_jsonl()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help=f"output folder (default {DATA_DIR})")
    args = parser.parse_args(argv)
    files = render()
    if args.check:
        stale = [name for name, text in files.items()
                 if not (args.out / name).is_file() or (args.out / name).read_text(encoding="utf-8") != text]
        for name in stale:
            print(f"{args.out / name}: differs from a fresh build; run python tools/suites/build.py", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name} ({text.count(chr(10))} probes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
