"""db/schema.py: the models describe exactly the schema the migrations build."""

from __future__ import annotations

from db.session import make_engine


def test_schema_matches_the_models(any_db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from db.schema import Base, include_object

    engine = make_engine(any_db_url)  # migrated to head on SQLite and on PostgreSQL
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object,
                                                               "compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_the_columns_hold_what_is_stored() -> None:
    """SQLite never enforces a length (PostgreSQL does): a model version or a list's venue tag that does not
    fit would fail the whole stage there."""
    from classifier.model import CODE_VERSION, data_version
    from db.schema import ClassificationRow, ListEntryRow

    version = data_version([], seed=0)
    column = ClassificationRow.__table__.c.model_version
    assert version.startswith(f"{CODE_VERSION}@") and len(version) <= column.type.length
    assert getattr(ListEntryRow.__table__.c.venue.type, "length", None) is None  # any tag a list writes
