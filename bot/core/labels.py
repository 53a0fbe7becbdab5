"""The one set of labels paperbot emits.

Every label the bot stores, prints or writes is derived from this enum: database values, classifier
classes, README sections (through the configuration) and PR labels. The meaning of each label is the
rubric in the project's labelled data (``classifier/data/RUBRIC.md``).
"""

from __future__ import annotations

from enum import StrEnum


class Label(StrEnum):
    DISTILLATION = "distillation"
    PRUNING = "pruning"
    QUANTIZATION = "quantization"
    OTHER = "other"
    IRRELEVANT = "irrelevant"

    def __str__(self) -> str:
        return self.value

    @property
    def is_section(self) -> bool:
        """True for the four labels that file a paper on the list."""
        return self is not Label.IRRELEVANT


LABELS: tuple[Label, ...] = tuple(Label)
SECTION_LABELS: tuple[Label, ...] = tuple(label for label in Label if label.is_section)
LABEL_VALUES: tuple[str, ...] = tuple(label.value for label in Label)
