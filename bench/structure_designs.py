"""The designs of ``bench/structure_experiment.py``: the shipped learner with extra MiniLM blocks.

Not part of the product. Each name gives the block, its scale in the section SVM and in the five-label SVM.
"""

from __future__ import annotations

from model_designs import Spec

STRUCTURE_SPECS: dict[str, Spec] = {
    **{f"title emb {s:g}": Spec(dense=(("title_v", s, 0.0),)) for s in (0.5, 1.0)},
    **{f"title emb {s:g}, five-label {t:g}": Spec(dense=(("title_v", s, t),))
       for s, t in ((0.5, 0.5), (1.0, 1.0), (1.0, 0.5))},
}
STRUCTURE_SPECS.update({
    "title emb 2": Spec(dense=(("title_v", 2.0, 0.0),)),
    **{f"contrib emb {s:g}": Spec(dense=(("contrib_v", s, 0.0),)) for s in (0.5, 1.0)},
    **{f"contrib emb {s:g}, five-label {s:g}": Spec(dense=(("contrib_v", s, s),)) for s in (0.5, 1.0)},
    **{f"second half {s:g}": Spec(dense=(("second_v", s, 0.0),)) for s in (0.5, 1.0)},
    **{f"second half {s:g}, five-label {s:g}": Spec(dense=(("second_v", s, s),)) for s in (0.5, 1.0)},
    "halves 0.5, five-label 0.5": Spec(dense=(("first_v", 0.5, 0.5), ("second_v", 0.5, 0.5))),
})
STRUCTURE_SPECS.update({
    **{f"title emb {s:g}, five-label {t:g}": Spec(dense=(("title_v", s, t),))
       for s, t in ((1.0, 0.3), (0.5, 0.3), (1.5, 1.0))},
    "C 2, title emb 1, five-label 1": Spec(c=2.0, dense=(("title_v", 1.0, 1.0),)),
    "C 2, title 1, title emb 1, five-label 0.5": Spec(c=2.0, title=1.0, dense=(("title_v", 1.0, 0.5),)),
    "mean2 instead": Spec(vector="mean2"),
    "mean3 instead": Spec(vector="mean3"),
    "mean2 instead, title emb 1, five-label 1": Spec(vector="mean2", dense=(("title_v", 1.0, 1.0),)),
    "title emb 1, five-label 1, second half 0.5": Spec(dense=(("title_v", 1.0, 1.0), ("second_v", 0.5, 0.0))),
})
STRUCTURE_SPECS.update({  # round 4: the mean of two chunks with the title's embedding, and the title's TF-IDF
    "mean2 instead, title emb 1, five-label 1, title 1": Spec(vector="mean2", title=1.0,
                                                              dense=(("title_v", 1.0, 1.0),)),
    "mean2 instead, title emb 0.5, five-label 0.5": Spec(vector="mean2", dense=(("title_v", 0.5, 0.5),)),
    "mean2 instead, title emb five-label 1, title 1": Spec(vector="mean2", title=1.0,
                                                           dense=(("title_v", 0.0, 1.0),)),
    "mean2 instead, C 2, title emb 1, five-label 1, title 1": Spec(vector="mean2", c=2.0, title=1.0,
                                                                   dense=(("title_v", 1.0, 1.0),)),
    "title emb five-label 1, title 1": Spec(title=1.0, dense=(("title_v", 0.0, 1.0),)),
})
STRUCTURE_SPECS.update({  # round 5: the title's embedding in the five-label SVM beside the title's TF-IDF
    **{f"title emb five-label {t:g}, title 1": Spec(title=1.0, dense=(("title_v", 0.0, t),))
       for t in (0.7, 1.5)},
    "title emb 0.5, five-label 1, title 1": Spec(title=1.0, dense=(("title_v", 0.5, 1.0),)),
    "C 2, title emb five-label 1, title 1": Spec(c=2.0, title=1.0, dense=(("title_v", 0.0, 1.0),)),
})
