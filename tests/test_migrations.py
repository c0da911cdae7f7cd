"""The migrations build exactly the tables the models declare, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tutela.models import Base


def test_migrations_match_the_models(env):
    with env.ctx.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_restrictions_and_closed_requests_of_older_stores_carry_over(database_url):
    """A store made before limits and request statuses keeps its restricted people and its
    answered requests through the migrations."""
    from alembic import command
    from sqlalchemy import text

    from tutela.db import make_engine
    from tutela.migrations import alembic_config, upgrade

    engine = make_engine(database_url)
    command.downgrade(alembic_config(engine), "0010")  # the schema of 0010, emptied by the fixture
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO subjects (id, external_id, kind, source, created_at, updated_at, "
                "restricted_at) VALUES ('s1', 'crm-1', 'client', 'registration_form', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-02-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO rights_requests (id, type, channel, subject_id, received_on, due_on, "
                "extended_months, status, created_at, opened_by) VALUES ('r1', 'access', 'post', "
                "'s1', '2026-01-01', '2026-02-01', 0, 'closed', '2026-01-01 00:00:00', 'dpo')"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        limit = conn.execute(text("SELECT category, basis FROM data_limits")).one()
        request = conn.execute(text("SELECT status, external_id FROM rights_requests")).one()
        limited = conn.execute(text("SELECT limited_at FROM subjects")).scalar()
    engine.dispose()
    assert tuple(limit) == ("*", "restriction") and limited is not None
    assert tuple(request) == ("answered", "crm-1")
