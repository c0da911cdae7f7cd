"""The migrations build exactly the tables the models declare, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tutela.models import Base


def test_migrations_match_the_models(env):
    with env.ctx.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
