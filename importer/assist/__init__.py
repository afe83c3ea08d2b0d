"""The mapping assistant: propose a mapping from a sheet, so nobody has to write YAML.

:func:`propose_mapping` matches columns to event fields (:mod:`importer.assist.columns`), guesses
date and time formats (:mod:`importer.assist.formats`) and picks an ``external_id``;
:func:`proposal_from_choices` builds the same from a person's own choices (the web page's
drop-downs). Either gives a :class:`Proposal` (:mod:`importer.assist.proposal`): every choice
with a confidence and a reason, written as a commented mapping file by :meth:`Proposal.to_yaml`.
"""

from importer.assist.event import Choice, slug
from importer.assist.fields import FIELD_KEYS, FIELDS, FieldSpec, spec
from importer.assist.formats import Confidence, FormatGuess
from importer.assist.proposal import Proposal, Setting, render_proposal
from importer.assist.propose import proposal_from_choices, propose_mapping

__all__ = [
    "FIELDS",
    "FIELD_KEYS",
    "Choice",
    "Confidence",
    "FieldSpec",
    "FormatGuess",
    "Proposal",
    "Setting",
    "proposal_from_choices",
    "propose_mapping",
    "render_proposal",
    "slug",
    "spec",
]
