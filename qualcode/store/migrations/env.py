"""Alembic environment: runs on the connection qualcode hands it (see store.db.migrate)."""
from alembic import context

from qualcode.store.schema import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # plain `alembic` CLI use: build an engine from the URL option
    from sqlalchemy import create_engine

    connection = create_engine(config.get_main_option("sqlalchemy.url")).connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
