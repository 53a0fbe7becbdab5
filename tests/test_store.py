from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from bot.core.labels import Label
from bot.core.models import Paper, Prediction, parse_arxiv_id
from bot.core.states import RunStatus
from db import store
from db.session import session_scope

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def paper(arxiv_id: str, version: int = 1, title: str = "A paper", **kw: object) -> Paper:
    return Paper(arxiv_id=arxiv_id, version=version, title=title, abstract="An abstract.",
                 authors=("Ada Lovelace", "Alan Turing"), categories=("cs.CV", "cs.LG"),
                 primary_category="cs.CV", published=T0, updated=T0 + timedelta(days=version - 1),
                 **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text_id", "base", "version"), [
    ("2501.01234v2", "2501.01234", 2),
    ("0704.0001", "0704.0001", None),
    ("1412.9999v11", "1412.9999", 11),
    ("hep-th/9901001v2", "hep-th/9901001", 2),
    ("math.GT/0309136", "math.GT/0309136", None),
    ("https://arxiv.org/abs/2406.01234v3", "2406.01234", 3),
    ("http://arxiv.org/abs/astro-ph/0601001v1", "astro-ph/0601001", 1),
    ("https://arxiv.org/pdf/2406.01234.pdf", "2406.01234", None),
    ("arXiv:2701.123456", "2701.123456", None),
])
def test_arxiv_ids_parse(text_id: str, base: str, version: int | None) -> None:
    assert parse_arxiv_id(text_id) == (base, version)


@pytest.mark.parametrize("bad", ["", "abc", "2501.123", "http://arxiv.org/api/errors#incorrect_id",
                                 "https://evil.example/abs/2501.01234", "2501.01234v", "../2501.01234"])
def test_non_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_arxiv_id(bad)


def test_v2_updates_the_v1_row(engine: Engine) -> None:
    with session_scope(engine) as s:
        assert store.upsert_papers(s, [paper("2501.01234", 1, "Old title")]) == store.UpsertCounts(1, 0, 0)
    with session_scope(engine) as s:
        counts = store.upsert_papers(s, [paper("2501.01234", 2, "New title")])
        assert counts == store.UpsertCounts(0, 1, 0)
    with session_scope(engine) as s:
        stored = store.get_paper(s, "2501.01234")
        assert stored is not None and stored.version == 2 and stored.title == "New title"
        assert stored.authors == ("Ada Lovelace", "Alan Turing") and stored.published == T0
        assert store.count_papers(s) == 1
        # an older version seen later never overwrites the newer one
        assert store.upsert_papers(s, [paper("2501.01234", 1, "Old title")]).unchanged == 1
        assert store.get_paper(s, "2501.01234").title == "New title"  # type: ignore[union-attr]


def test_one_batch_with_two_versions_is_one_row(engine: Engine) -> None:
    with session_scope(engine) as s:
        counts = store.upsert_papers(s, [paper("hep-th/9901001", 2), paper("hep-th/9901001", 1)])
        assert counts.new == 1
        assert store.get_paper(s, "hep-th/9901001").version == 2  # type: ignore[union-attr]


def test_watermark_moves_only_with_successful_fetches(engine: Engine) -> None:
    with session_scope(engine) as s:
        assert store.watermark(s) is None
        ok = store.start_run(s, "fetch", T0 - timedelta(days=1), T0)
        store.finish_run(s, ok, RunStatus.SUCCESS, fetched=3)
        failed = store.start_run(s, "fetch", T0, T0 + timedelta(days=1))
        store.finish_run(s, failed, RunStatus.FAILED, error="arXiv answered 503")
        backfill = store.start_run(s, "backfill", T0, T0 + timedelta(days=9))
        store.finish_run(s, backfill, RunStatus.SUCCESS)
    with session_scope(engine) as s:
        assert store.watermark(s) == T0
        runs = store.recent_runs(s)
        assert [r.status for r in runs] == ["success", "failed", "success"]
        assert runs[1].error == "arXiv answered 503"


def test_a_failed_transaction_keeps_what_was_stored(engine: Engine) -> None:
    with session_scope(engine) as s:
        store.upsert_papers(s, [paper("2501.00001")])
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        store.upsert_papers(s, [paper("2501.00002")])
        raise RuntimeError("interrupted")
    with session_scope(engine) as s:
        assert store.count_papers(s) == 1


def test_embeddings_round_trip_per_model(engine: Engine) -> None:
    with session_scope(engine) as s:
        store.upsert_papers(s, [paper("2501.00001"), paper("2501.00002")])
        assert len(store.papers_without_embedding(s, "m1")) == 2
        vectors = np.arange(8, dtype=np.float32).reshape(2, 4) / 10
        store.save_embeddings(s, "m1", ["2501.00001", "2501.00002"], vectors)
    with session_scope(engine) as s:
        assert store.papers_without_embedding(s, "m1") == []
        assert len(store.papers_without_embedding(s, "m2")) == 2  # a new model re-embeds
        ids, matrix = store.load_embeddings(s, "m1")
        assert ids == ["2501.00001", "2501.00002"]
        np.testing.assert_array_equal(matrix, vectors)


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.execute(text("INSERT INTO embeddings VALUES ('9999.99999', 'm', 1, x'00000000', '2026-01-01')"))


def test_predictions_round_trip(engine: Engine) -> None:
    probabilities = {"distillation": 0.05, "pruning": 0.8, "quantization": 0.05, "other": 0.05,
                     "irrelevant": 0.05}
    prediction = Prediction(Label.PRUNING, 0.8, probabilities, Label.OTHER, 0.05, False,
                            "closest listed: DeepCache (0.83)", "v1")
    with session_scope(engine) as s:
        store.upsert_papers(s, [paper("2501.00001"), paper("2501.00002")])
        store.save_predictions(s, {"2501.00001": prediction})
        assert [p.arxiv_id for p in store.unclassified(s)] == ["2501.00002"]
    with session_scope(engine) as s:
        got = store.get_prediction(s, "2501.00001")
        assert got is not None and got[0] == prediction


def test_a_toss_up_section_is_marked_with_its_runner_up(engine: Engine) -> None:
    from bot.core.config import ClassifierSettings, Settings
    from bot.pipeline.run import candidates

    def predicted(label: Label, probabilities: list[float]) -> Prediction:
        p = dict(zip(["distillation", "pruning", "quantization", "other", "irrelevant"], probabilities,
                     strict=True))
        return Prediction(label, p[label.value], p, Label.OTHER, p["other"], False, "why", "v1")

    clear = predicted(Label.PRUNING, [0.05, 0.80, 0.02, 0.08, 0.05])  # 0.80 of 0.95 relevant: 84 %
    toss_up = predicted(Label.DISTILLATION, [0.50, 0.02, 0.01, 0.42, 0.05])  # 0.50 of 0.95: 53 %
    assert clear.other_section(0.6) is None and toss_up.other_section(0.6) is Label.OTHER
    assert toss_up.other_section(0.5) is None and toss_up.other_section(0.0) is None
    assert predicted(Label.IRRELEVANT, [0.1, 0.1, 0.1, 0.1, 0.6]).other_section(1.0) is None
    with session_scope(engine) as s:
        store.upsert_papers(s, [paper("2501.00001"), paper("2501.00002")])
        store.save_predictions(s, {"2501.00001": clear, "2501.00002": toss_up})
    additions, review = candidates(Settings(), engine, listed={})
    assert {a.paper.arxiv_id: a.other_section for a in additions} == {"2501.00001": None,
                                                                      "2501.00002": Label.OTHER}
    assert review == []
    off = Settings(classifier=ClassifierSettings(uncertain_section_below=0.0))
    assert [a.other_section for a in candidates(off, engine, listed={})[0]] == [None, None]
