"""Experiment: does a non-linear section model, behind the shipped relevance decision, raise section accuracy?

Run by hand, not part of the suite or the product: ``python bench/section_experiment.py [LEARNER ...]``
(learners of ``section_designs.LEARNERS``; add ``--forward`` for the 2026 judge, once, for the one design
chosen on the selection judges, named with ``--only``). The judges, the components and the shipped
recomputation are ``bench/model_experiment.py``'s; the designs are ``bench/section_designs.py``'s. Prints each
design's relevance F1 / section accuracy / macro-F1 with 95% bootstrap intervals and shipped's paired lead.
"""

from __future__ import annotations

import argparse

from model_experiment import run_judges, shipped_scores
from section_designs import LEARNERS, designs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forward", action="store_true", help="also score the 2026 months")
    parser.add_argument("--judge", default="", help="only the judges whose names start so")
    parser.add_argument("--only", default="", help="run this one design (a name the table prints)")
    parser.add_argument("learners", nargs="*", default=list(LEARNERS))
    args = parser.parse_args()
    chosen = designs(args.learners)
    if args.only:
        chosen = {args.only: chosen[args.only]}
    run = {"shipped": shipped_scores, **chosen}
    run_judges(run, args.forward, args.judge, timed=True)


if __name__ == "__main__":
    main()
