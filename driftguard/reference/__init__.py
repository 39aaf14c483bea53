"""driftguard.reference: exact, memory-bounded KL of the policy against its frozen reference.

Pure functions live in :mod:`driftguard.reference.kl`; :class:`KLSet` holds the token ids the KL is
measured on; reference providers (adapter / model / cached) supply the reference side;
:func:`measure_kl` runs a pass and returns a :class:`KLResult`.
"""

from driftguard.reference.cached import CachedReference
from driftguard.reference.kl import reference_topk, sequence_kl, token_kl, topk_kl
from driftguard.reference.kl_set import KLBatch, KLItem, KLSet, forward_logits
from driftguard.reference.measure import KLResult, measure_kl
from driftguard.reference.providers import AdapterReference, ModelReference, ReferenceProvider, is_peft_model
from driftguard.reference.select import select_reference

__all__ = [
    "AdapterReference", "CachedReference", "KLBatch", "KLItem", "KLResult", "KLSet", "ModelReference",
    "ReferenceProvider", "forward_logits", "is_peft_model", "measure_kl", "reference_topk", "select_reference",
    "sequence_kl", "token_kl", "topk_kl",
]
