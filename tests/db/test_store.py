"""db/store.py on a migrated SQLite file and a PostgreSQL database: papers by version, the watermark,
transactions, embeddings and predictions."""

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from bot.core.labels import Label
from bot.core.models import Prediction
from bot.core.states import RunStatus
from db import store, textcache
from db.session import session_scope
from tests.support.store import T0, paper


def test_v2_updates_the_v1_row(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        assert store.upsert_papers(s, [paper("2501.01234", 1, "Old title")]) == store.UpsertCounts(1, 0, 0)
    with session_scope(any_engine) as s:
        counts = store.upsert_papers(s, [paper("2501.01234", 2, "New title")])
        assert counts == store.UpsertCounts(0, 1, 0)
    with session_scope(any_engine) as s:
        stored = store.get_paper(s, "2501.01234")
        assert stored is not None and stored.version == 2 and stored.title == "New title"
        assert stored.authors == ("Ada Lovelace", "Alan Turing") and stored.published == T0
        assert store.count_papers(s) == 1
        # an older version seen later never overwrites the newer one
        assert store.upsert_papers(s, [paper("2501.01234", 1, "Old title")]).unchanged == 1
        assert store.get_paper(s, "2501.01234").title == "New title"  # type: ignore[union-attr]


def test_one_batch_with_two_versions_is_one_row(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        counts = store.upsert_papers(s, [paper("hep-th/9901001", 2), paper("hep-th/9901001", 1)])
        assert counts.new == 1
        assert store.get_paper(s, "hep-th/9901001").version == 2  # type: ignore[union-attr]


def test_watermark_moves_only_with_successful_fetches(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        assert store.watermark(s) is None
        ok = store.start_run(s, "fetch", T0 - timedelta(days=1), T0)
        store.finish_run(s, ok, RunStatus.SUCCESS, fetched=3)
        failed = store.start_run(s, "fetch", T0, T0 + timedelta(days=1))
        store.finish_run(s, failed, RunStatus.FAILED, error="arXiv answered 503")
        backfill = store.start_run(s, "backfill", T0, T0 + timedelta(days=9))
        store.finish_run(s, backfill, RunStatus.SUCCESS)
    with session_scope(any_engine) as s:
        assert store.watermark(s) == T0
        runs = store.recent_runs(s)
        assert [r.status for r in runs] == ["success", "failed", "success"]
        assert runs[1].error == "arXiv answered 503"


def test_a_run_left_running_by_a_dead_process_is_closed_by_the_next(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        dead, alive = store.start_run(s, "run"), store.start_run(s, "fetch")
    ages = {dead: store.STALE_RUN_AFTER + timedelta(minutes=1), alive: timedelta(hours=1)}
    with any_engine.begin() as connection:  # as if each had started that long ago
        for run_id, age in ages.items():
            connection.execute(text("UPDATE runs SET started_at = :t WHERE id = :id"),
                               {"t": store.to_db(store.utcnow() - age), "id": run_id})
    with session_scope(any_engine) as s:
        store.start_run(s, "run")
    with session_scope(any_engine) as s:
        runs = {r.id: r for r in store.recent_runs(s)}
    assert runs[dead].status == RunStatus.FAILED and runs[dead].finished_at is not None
    assert runs[dead].error == "never finished: still running after 6 hours"
    assert runs[alive].status == RunStatus.RUNNING  # another process may still be at work


def test_a_failed_transaction_keeps_what_was_stored(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        store.upsert_papers(s, [paper("2501.00001")])
    with pytest.raises(RuntimeError), session_scope(any_engine) as s:
        store.upsert_papers(s, [paper("2501.00002")])
        raise RuntimeError("interrupted")
    with session_scope(any_engine) as s:
        assert store.count_papers(s) == 1


def test_embeddings_round_trip_per_model(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        store.upsert_papers(s, [paper("2501.00001"), paper("2501.00002")])
        assert len(store.papers_without_embedding(s, "m1")) == 2
        vectors = np.arange(8, dtype=np.float32).reshape(2, 4) / 10
        store.save_embeddings(s, "m1", ["2501.00001", "2501.00002"], vectors)
    with session_scope(any_engine) as s:
        assert store.papers_without_embedding(s, "m1") == []
        assert len(store.papers_without_embedding(s, "m2")) == 2  # a new model re-embeds
        ids, matrix = store.load_embeddings(s, "m1")
        assert ids == ["2501.00001", "2501.00002"]
        np.testing.assert_array_equal(matrix, vectors)


def test_foreign_keys_are_enforced(any_engine: Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(any_engine) as s:
        s.execute(text("INSERT INTO embeddings VALUES ('9999.99999', 'm', 1, :v, '2026-01-01')"),
                  {"v": b"\x00" * 4})


def test_predictions_round_trip(any_engine: Engine) -> None:
    probabilities = {"distillation": 0.05, "pruning": 0.8, "quantization": 0.05, "other": 0.05,
                     "irrelevant": 0.05}
    prediction = Prediction(Label.PRUNING, 0.8, probabilities, Label.OTHER, 0.05, False,
                            "closest listed: DeepCache (0.83)", "v1", consensus=0.41)
    unknown = Prediction(Label.PRUNING, 0.8, probabilities, Label.OTHER, 0.05, False, "r", "v1")
    with session_scope(any_engine) as s:
        store.upsert_papers(s, [paper("2501.00001"), paper("2501.00002"), paper("2501.00003")])
        store.save_predictions(s, {"2501.00001": prediction, "2501.00003": unknown})
        assert [p.arxiv_id for p in store.unclassified(s)] == ["2501.00002"]
    with session_scope(any_engine) as s:
        got = store.get_prediction(s, "2501.00001")
        assert got is not None and got[0] == prediction and got[0].sureness == 0.41
        assert store.predictions(s, ["2501.00003"])["2501.00003"].consensus is None


def test_a_sighting_without_a_run_keeps_last_seen_run(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        run = store.start_run(s, "fetch")
        store.upsert_papers(s, [paper("2501.00001")], run)
        assert store.upsert_papers(s, [paper("2501.00001")]) == store.UpsertCounts(0, 0, 1)
        assert s.execute(text("SELECT last_seen_run FROM papers")).scalar() == run


def test_upsert_overwrites_or_ignores_and_expires_loaded_rows(any_engine: Engine) -> None:
    from db.schema import EmbeddingRow
    from db.upsert import upsert

    row = {"arxiv_id": "2501.00001", "model": "m", "dim": 1, "vector": b"\x00" * 4,
           "created_at": store.to_db(T0)}
    with session_scope(any_engine) as s:
        store.upsert_papers(s, [paper("2501.00001")])
        upsert(s, EmbeddingRow, [row])
        loaded = s.get(EmbeddingRow, ("2501.00001", "m"))
        assert loaded is not None and loaded.vector == b"\x00" * 4
        upsert(s, EmbeddingRow, [row | {"vector": b"\x01" * 4}])
        assert loaded.vector == b"\x01" * 4  # expired and read again, not the stale object
        upsert(s, EmbeddingRow, [row | {"vector": b"\x02" * 4}], ignore=True)
        assert loaded.vector == b"\x01" * 4
        upsert(s, EmbeddingRow, [])
        upsert(s, EmbeddingRow, [row | {"vector": b"\x03" * 4}, row | {"vector": b"\x04" * 4}])
        assert loaded.vector == b"\x04" * 4  # one key twice in a batch: the later row
        assert s.execute(text("SELECT count(*) FROM embeddings")).scalar() == 1


def test_saving_predictions_and_vectors_twice_replaces_them(any_engine: Engine) -> None:
    probabilities = {"distillation": 0.05, "pruning": 0.8, "quantization": 0.05, "other": 0.05,
                     "irrelevant": 0.05}
    first = Prediction(Label.PRUNING, 0.8, probabilities, Label.OTHER, 0.05, False, "r", "v1")
    second = Prediction(Label.PRUNING, 0.8, probabilities, Label.OTHER, 0.05, True, "r2", "v2")
    with session_scope(any_engine) as s:
        store.upsert_papers(s, [paper("2501.00001")])
        store.save_predictions(s, {"2501.00001": first})
        store.save_predictions(s, {"2501.00001": second})
        store.save_embeddings(s, "m", ["2501.00001"], np.ones((1, 2), dtype=np.float32))
        store.save_embeddings(s, "m", ["2501.00001"], np.zeros((1, 2), dtype=np.float32))
        textcache.save_text_vectors(s, "m", ["a text"], np.ones((1, 2), dtype=np.float32))
        textcache.save_text_vectors(s, "m", ["a text"], np.zeros((1, 2), dtype=np.float32))
    with session_scope(any_engine) as s:
        assert store.get_prediction(s, "2501.00001")[0] == second  # type: ignore[index]
        np.testing.assert_array_equal(store.load_embeddings(s, "m")[1], np.zeros((1, 2)))
        cached = textcache.cached_text_vectors(s, "m", ["a text"])
        np.testing.assert_array_equal(next(iter(cached.values())), np.zeros(2))
