"""For the classifier tests: one-letter names for the five labels, for tables of expected labels."""

from __future__ import annotations

from bot.core.labels import Label

D, P, Q, OT, IR = Label.DISTILLATION, Label.PRUNING, Label.QUANTIZATION, Label.OTHER, Label.IRRELEVANT
