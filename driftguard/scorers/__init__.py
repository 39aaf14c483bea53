"""driftguard.scorers: one scorer per dimension turning probe outputs into per-item records and metrics.

``score_all(probes, outputs)`` -> one ``ItemRecord`` per probe (NaN values + ``error`` when
unscored); ``aggregate(records)`` -> ``{metric name: MetricValue}``. No torch here (the
``hf:`` toxicity judge imports transformers when it is built).
"""

from driftguard.scorers.aggregate import aggregate, score_all
from driftguard.scorers.base import SCORERS, ItemScoringError, ScoredRecord, Scorer, ScorerOptions, register_scorer
from driftguard.scorers.bias import BiasScorer
from driftguard.scorers.ethics import EthicsScorer
from driftguard.scorers.judges import PipelineJudge, ProfanityCheckJudge, ToxicityJudge, make_toxicity_judge
from driftguard.scorers.privacy import PrivacyScorer, contains_secret
from driftguard.scorers.refusal import (
    COMPLIANCE_OPENINGS,
    REFUSAL_LABELS,
    REFUSAL_OPENINGS,
    BehaviourRefusalJudge,
    MarkerRefusalJudge,
    RefusalJudge,
    is_refusal,
    refusal_margin,
)
from driftguard.scorers.refusal_judges import PipelineRefusalJudge, make_refusal_judge
from driftguard.scorers.refusal_rules import classify_refusal
from driftguard.scorers.robustness import RobustnessScorer
from driftguard.scorers.safety import SafetyScorer
from driftguard.scorers.toxicity import ToxicityScorer

__all__ = [
    "COMPLIANCE_OPENINGS",
    "REFUSAL_LABELS",
    "REFUSAL_OPENINGS",
    "SCORERS",
    "BehaviourRefusalJudge",
    "BiasScorer",
    "EthicsScorer",
    "ItemScoringError",
    "MarkerRefusalJudge",
    "PipelineJudge",
    "PipelineRefusalJudge",
    "PrivacyScorer",
    "ProfanityCheckJudge",
    "RefusalJudge",
    "RobustnessScorer",
    "SafetyScorer",
    "ScoredRecord",
    "Scorer",
    "ScorerOptions",
    "ToxicityJudge",
    "ToxicityScorer",
    "aggregate",
    "classify_refusal",
    "contains_secret",
    "is_refusal",
    "make_refusal_judge",
    "make_toxicity_judge",
    "refusal_margin",
    "register_scorer",
    "score_all",
]
