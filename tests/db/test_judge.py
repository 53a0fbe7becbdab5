"""db/judge.py: the LLM judge's verdicts cached per paper, judge model and prompt version."""

from sqlalchemy import Engine

from bot.core.labels import Label
from bot.core.models import JudgeVerdict
from db import store
from db.judge import cached_verdicts, save_verdict
from db.session import session_scope
from tests.support.store import paper


def test_verdicts_are_kept_per_model_and_prompt_version(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        store.upsert_papers(s, [paper("2501.00001"), paper("2501.00002")])
        save_verdict(s, "2501.00001", JudgeVerdict(Label.PRUNING, Label.OTHER, "Caching.", "m1", "judge-v1"))
        save_verdict(s, "2501.00001", JudgeVerdict(Label.OTHER, None, "Solver.", "m2", "judge-v1"))
        save_verdict(s, "2501.00002", JudgeVerdict(Label.IRRELEVANT, None, "An LLM.", "m1", "judge-v1"))
    with session_scope(any_engine) as s:
        save_verdict(s, "2501.00002", JudgeVerdict(Label.QUANTIZATION, None, "Low-bit.", "m1", "judge-v1"))
    with session_scope(any_engine) as s:
        m1 = cached_verdicts(s, "m1", "judge-v1")
        assert m1["2501.00001"] == JudgeVerdict(Label.PRUNING, Label.OTHER, "Caching.", "m1", "judge-v1")
        assert m1["2501.00002"].label is Label.QUANTIZATION  # the latest answer replaces the earlier one
        assert set(cached_verdicts(s, "m2", "judge-v1")) == {"2501.00001"}
        assert cached_verdicts(s, "m1", "judge-v2") == {}
        assert set(cached_verdicts(s, "m1", "judge-v1", ["2501.00002", "2501.09999"])) == {"2501.00002"}
