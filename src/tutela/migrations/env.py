"""Alembic environment: the engine comes from the caller (tutela init) or TUTELA_DATABASE_URL."""

from alembic import context

from tutela.db import make_engine
from tutela.models import Base
from tutela.settings import get_settings

config = context.config
engine = config.attributes.get("engine") or make_engine(get_settings().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
