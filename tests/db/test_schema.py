"""db/schema.py: the models describe exactly the schema the migrations build."""

from __future__ import annotations

from pathlib import Path

from db.session import make_engine, upgrade


def test_schema_matches_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from db.schema import Base, include_object

    engine = make_engine(f"sqlite:///{tmp_path / 'check.db'}")
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        assert compare_metadata(context, Base.metadata) == []
