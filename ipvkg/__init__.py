"""ipvkg: a knowledge graph of interventions for survivors of intimate partner violence.

The public API is small; the ``ipvkg`` command wraps it.

>>> import ipvkg
>>> sorted(q.name for q in ipvkg.list_questions())[:2]
['component_domain', 'component_outcome']
"""

from .pipeline.build import build, load_and_validate
from .classify import classify, explain
from .base.background import Parallelism
from .base.errors import InputError, IpvkgError, Problem
from .questions.queries import list_questions, run_question
from .questions.kept import open_store
from .base.version import __version__
from .base.vocab import load_vocabulary


__all__ = [
    "build",
    "load_and_validate",
    "classify",
    "explain",
    "open_store",
    "run_question",
    "list_questions",
    "load_vocabulary",
    "Parallelism",
    "Problem",
    "InputError",
    "IpvkgError",
    "__version__",
]
