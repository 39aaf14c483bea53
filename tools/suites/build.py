"""Build the shipped probe suites from the authored content in this folder. Deterministic: same files every run.

    python tools/suites/build.py          # write driftguard/probes/data/{full,compact}.jsonl
    python tools/suites/build.py --check  # exit 1 when the committed files differ from a fresh build

``full`` holds every item. ``compact`` (the default suite) is a stratified subset whose size per headline
metric comes from the exact McNemar power calculation in ``driftguard.probes.power``: the fewest items that
detect a drop of ``COMPACT_TARGET_DROP`` (alpha 0.05, 80% power, 2% background churn). Every robustness
variant in ``compact`` keeps its clean item in ``compact``.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import permutations
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

from driftguard.errors import ProbeSuiteError  # noqa: E402
from driftguard.probes.formats import ETHICS_OPTIONS, choice_prompt, ethics_prompt  # noqa: E402
from driftguard.probes.loaders import SHIPPED_VERSION, parse_probe  # noqa: E402
from driftguard.probes.power import DEFAULT_CHURN, min_items_for_drop  # noqa: E402
from driftguard.probes.suite import ProbeSuite  # noqa: E402
from driftguard.scorers.ethics import is_evasive  # noqa: E402
from driftguard.types import Probe  # noqa: E402

DATA_DIR = HERE.parents[1] / "driftguard" / "probes" / "data"
SEED = "driftguard-suites-v1"
ALPHA, POWER = 0.05, 0.8
# Smallest drop (in the rate) compact must detect: tighter for the two safety rates, the suite's core.
COMPACT_TARGET_DROP: dict[str, float] = {"safety": 0.18, "default": 0.20}
Obj = dict[str, Any]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def safety_objs() -> list[Obj]:
    """Harmful requests (refuse) and benign look-alikes (comply)."""
    out = [{"id": f"s-h-{i:03d}", "dimension": "safety", "kind": "generate", "prompt": prompt, "expect": "refuse",
            "category": cat} for i, (cat, prompt) in enumerate(safety_items.HARMFUL, 1)]
    out += [{"id": f"s-b-{i:03d}", "dimension": "safety", "kind": "generate", "prompt": prompt, "expect": "comply",
             "category": cat} for i, (cat, prompt) in enumerate(safety_items.BENIGN, 1)]
    return out


def toxicity_objs() -> list[Obj]:
    """Provocative prompts, category = style of bait."""
    items = [(style, p) for style, prompts in toxicity_items.TOXICITY.items() for p in prompts]
    return [{"id": f"t-{i:03d}", "dimension": "toxicity", "kind": "generate", "prompt": p, "category": style}
            for i, (style, p) in enumerate(items, 1)]


_PERMS = list(permutations(range(3)))


def _bias_item(item_id: str, t: bias_templates.BiasTemplate, context: str, polarity: str, condition: str,
               answer_who: str | None, k: int, extra: Obj) -> Obj:
    """One choice item; ``answer_who`` is "target", "other" or None (unknown). Option order rotates with ``k``."""
    texts = {"target": _cap(t.target[1]), "other": _cap(t.other[1]),
             "unknown": bias_templates.UNKNOWN_PHRASES[(k // len(_PERMS)) % len(bias_templates.UNKNOWN_PHRASES)]}
    order = [("target", "other", "unknown")[j] for j in _PERMS[k % len(_PERMS)]]
    stereotyped = "target" if polarity == "neg" else "other"
    question = t.neg_q if polarity == "neg" else t.pos_q
    options = [texts[w] for w in order]
    return {"id": item_id, "dimension": "bias", "kind": "choice", "prompt": choice_prompt(context, question, options),
            "options": options, "answer": order.index(answer_who or "unknown"), "stereotyped": order.index(stereotyped),
            "condition": condition, "category": t.category, "question_polarity": polarity,
            "unknown_option": order.index("unknown"), **extra}


def bias_objs() -> list[Obj]:
    """Per template: 4 ambiguous items (2 mention orders x 2 questions) and 4 disambiguated ones
    (the negative act by the target or by the other person x 2 questions)."""
    out: list[Obj] = []
    for t_i, t in enumerate(bias_templates.TEMPLATES, 1):
        n = 0
        for order in (0, 1):
            a, b = (t.target[0], t.other[0]) if order == 0 else (t.other[0], t.target[0])
            context = _cap(t.context.format(a=a, b=b))
            for polarity in ("neg", "nonneg"):
                n += 1
                out.append(_bias_item(f"b-{t_i:02d}-amb-{n}", t, context, polarity, "ambiguous", None, len(out),
                                      {"template": t_i}))
        for neg_who, order in (("target", 0), ("other", 1)):
            pos_who = "other" if neg_who == "target" else "target"
            a, b = (t.target[0], t.other[0]) if order == 0 else (t.other[0], t.target[0])
            refs = {"target": t.target[1], "other": t.other[1]}
            context = _cap(t.context.format(a=a, b=b)) + " " + _cap(t.disamb.format(neg=refs[neg_who], pos=refs[pos_who]))
            for polarity in ("neg", "nonneg"):
                n += 1
                answer_who = neg_who if polarity == "neg" else pos_who
                stereo_who = "target" if polarity == "neg" else "other"
                out.append(_bias_item(f"b-{t_i:02d}-dis-{n}", t, context, polarity, "disambiguated", answer_who, len(out),
                                      {"template": t_i, "context_consistent": answer_who == stereo_who}))
    return out


def ethics_objs() -> list[Obj]:
    """Wrong and not-wrong scenarios, plus an evasive re-framing of every wrong one (``evasive: true``)."""
    def item(item_id: str, scenario: str, answer: int, **extra: Any) -> Obj:
        return {"id": item_id, "dimension": "ethics", "kind": "choice", "prompt": ethics_prompt(scenario),
                "options": list(ETHICS_OPTIONS), "answer": answer, "scenario": scenario, **extra}

    out = [item(f"e-w-{i:03d}", s, 0, label="wrong") for i, (s, _) in enumerate(ethics_items.WRONG, 1)]
    out += [item(f"e-n-{i:03d}", s, 1, label="not wrong") for i, s in enumerate(ethics_items.NOT_WRONG, 1)]
    out += [item(f"e-x-{i:03d}", s.rstrip(".") + f", {excuse}.", 0, label="wrong", evasive=True, reframes=f"e-w-{i:03d}",
                 excuse=excuse) for i, (s, excuse) in enumerate(ethics_items.WRONG, 1)]
    return out


def privacy_objs() -> list[Obj]:
    """Every frame x secret kind x wording, each with a fresh synthetic canary."""
    out: list[Obj] = []
    people, orgs = privacy_items.PEOPLE, privacy_items.ORGS
    for f_i, (frame, asker, step_by_step, wordings) in enumerate(privacy_items.FRAMES):
        for k_i, kind in enumerate(privacy_items.SECRET_KINDS):
            for w, build in enumerate(wordings):
                rng = random.Random(f"{SEED}-privacy-{frame}-{kind.name}-{w}")
                name, subj, poss, obj = people[(5 * f_i + 3 * k_i + w) % len(people)]
                case = privacy_items.Case(name, subj, poss, obj, orgs[(f_i + k_i + w) % len(orgs)], kind.label,
                                          kind.draw(rng))
                out.append({"id": f"p-{len(out) + 1:03d}", "dimension": "privacy", "kind": "generate",
                            "messages": build(case), "secret": case.secret, "category": kind.name, "frame": frame,
                            "asker": asker, "step_by_step": step_by_step})
    return out


def _perturb(text: str, perturbation: str, key: str, index: int, translation: str) -> str:
    r = robustness_items
    return {"typos": lambda: r.typos(text, key), "leetspeak": lambda: r.leetspeak(text),
            "roleplay": lambda: r.roleplay(text, index), "formatting": lambda: r.formatting(text, index),
            "translation": lambda: translation}[perturbation]()


def robustness_objs(clean: list[Obj]) -> list[Obj]:
    """Five perturbations of each clean safety prompt / ethics scenario listed in ``robustness_items``."""
    by_text = {o["prompt"]: o for o in clean if o["dimension"] == "safety"}
    by_text.update({o["scenario"]: o for o in clean if o["dimension"] == "ethics" and not o.get("evasive")})
    out: list[Obj] = []
    sources = [*robustness_items.SAFETY_TRANSLATIONS.items(), *robustness_items.ETHICS_TRANSLATIONS.items()]
    for c_i, (text, (language, translation)) in enumerate(sources):
        if text not in by_text:
            raise ProbeSuiteError(f"tools/suites/robustness_items.py: no clean item with text {text!r}; fix the key")
        src = by_text[text]
        for perturbation in robustness_items.PERTURBATIONS:
            item_id = f"r-{len(out) + 1:03d}"
            new = _perturb(text, perturbation, f"{SEED}-{src['id']}", c_i, translation)
            obj: Obj = {"id": item_id, "dimension": "robustness", "kind": src["kind"], "variant_of": src["id"],
                        "perturbation": perturbation, "source_dimension": src["dimension"]}
            if perturbation == "translation":
                obj["language"] = language
            if src["kind"] == "generate":
                obj.update(prompt=new, expect=src["expect"])
            else:
                frames = robustness_items.ETHICS_ROLEPLAY
                prompt = (frames[c_i % len(frames)] + "\n\n" + ethics_prompt(text) if perturbation == "roleplay"
                          else ethics_prompt(new))
                obj.update(prompt=prompt, options=list(src["options"]), answer=src["answer"])
            out.append(obj)
    return out


def _parse(objs: Iterable[Obj], source: str) -> list[Probe]:
    return [parse_probe(o, source, i) for i, o in enumerate(objs, 1)]


def build_full() -> ProbeSuite:
    """Every authored item, validated through the loader's ``parse_probe``."""
    clean = safety_objs() + toxicity_objs() + bias_objs() + ethics_objs() + privacy_objs()
    objs = clean + robustness_objs(clean)
    return ProbeSuite("full", SHIPPED_VERSION, tuple(_parse(objs, "tools/suites/build.py")), source="full")


def stratified(items: list[Probe], n: int, stratum: Callable[[Probe], str], forced: Iterable[str] = (),
               seed: str = SEED) -> list[str]:
    """``n`` ids from ``items``: every ``forced`` id, then filled stratum by stratum, always adding to the
    stratum with the lowest share picked so far (ties: stratum name), in a seeded order within a stratum."""
    groups: dict[str, list[Probe]] = defaultdict(list)
    for p in items:
        groups[stratum(p)].append(p)
    for key, group in groups.items():
        random.Random(f"{seed}-{key}").shuffle(group)
    picked = [i for i in forced]
    if len(picked) > n or len(items) < n:
        raise ProbeSuiteError(f"stratified: cannot pick {n} of {len(items)} items with {len(picked)} forced ones")
    taken = set(picked)
    count = {k: sum(1 for p in g if p.id in taken) for k, g in groups.items()}
    while len(picked) < n:
        open_keys = [k for k, g in groups.items() if count[k] < len(g)]
        key = min(open_keys, key=lambda k: (count[k] / len(groups[k]), k))
        nxt = next(p for p in groups[key] if p.id not in taken)
        picked.append(nxt.id)
        taken.add(nxt.id)
        count[key] += 1
    return picked


def compact_sizes() -> dict[str, int]:
    """Items per headline group, from the exact McNemar power calculation."""
    def size(target: float) -> int:
        return min_items_for_drop(target, ALPHA, POWER, DEFAULT_CHURN)

    return {"safety": size(COMPACT_TARGET_DROP["safety"]), "default": size(COMPACT_TARGET_DROP["default"])}


def _spread(variants: list[Probe], n: int) -> list[str]:
    """``n`` robustness variants, cycling through the perturbations, each time from the clean item with the
    fewest picked variants so far (ties: seeded order), so few clean items must join compact."""
    order = list(variants)
    random.Random(f"{SEED}-robustness").shuffle(order)
    per_clean: dict[str, int] = defaultdict(int)
    picked: list[str] = []
    kinds = robustness_items.PERTURBATIONS
    while len(picked) < n:
        kind = kinds[len(picked) % len(kinds)]
        candidates = [p for p in order if p.meta["perturbation"] == kind and p.id not in picked]
        best = min(candidates, key=lambda p: per_clean[p.variant_of or ""])
        picked.append(best.id)
        per_clean[best.variant_of or ""] += 1
    return picked


def build_compact(full: ProbeSuite) -> ProbeSuite:
    """The stratified, power-sized subset of ``full`` (see module doc)."""
    sizes = compact_sizes()
    n_safety, n = sizes["safety"], sizes["default"]
    groups = full.by_dimension()
    robust = _spread(list(groups["robustness"]), n)
    clean_ids = {full.get(i).variant_of for i in robust}  # type: ignore[union-attr]
    safety = groups["safety"]
    ethics = [p for p in groups["ethics"] if not is_evasive(p)]
    cat: Callable[[Probe], str] = lambda p: p.category or ""  # noqa: E731
    ids: list[str] = []
    for expect in ("refuse", "comply"):
        group = [p for p in safety if p.expect == expect]
        ids += stratified(group, n_safety, cat, [p.id for p in group if p.id in clean_ids])
    ids += stratified(list(groups["toxicity"]), n, cat)
    for condition in ("ambiguous", "disambiguated"):
        ids += stratified([p for p in groups["bias"] if p.condition == condition], n, cat)
    ids += stratified(ethics, n, lambda p: str(p.answer), [p.id for p in ethics if p.id in clean_ids])
    ids += stratified([p for p in groups["ethics"] if is_evasive(p)], n, lambda p: "evasive")
    ids += stratified(list(groups["privacy"]), n, lambda p: str(p.meta["frame"]))
    ids += robust
    compact = full.select(ids, name="compact")
    return ProbeSuite("compact", SHIPPED_VERSION, compact.probes, source="compact")


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
