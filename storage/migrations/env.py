"""Alembic environment: runs on the connection handed over by storage.db.migrate, or, when invoked
through the alembic command line, on PROVISIONER_DATABASE_URL (default: provisioner.db in
PROVISIONER_DATA_DIR, as the service's settings have it)."""

import os

from alembic import context
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run_with(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == 'sqlite')
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get('connection')
if connection is not None:
    run_with(connection)
else:
    from storage.db import make_engine

    data_dir = os.environ.get('PROVISIONER_DATA_DIR') or './data'
    engine = make_engine(os.environ.get('PROVISIONER_DATABASE_URL') or f'sqlite:///{data_dir}/provisioner.db')
    with engine.connect() as conn:
        run_with(conn)
