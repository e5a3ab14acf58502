"""Alembic's entry point for ringtest's revisions (`ringtest.store.migrate` runs them).

ringtest passes the connection to migrate in `config.attributes["connection"]`,
inside its own transaction. Run from the `alembic` command (alembic.ini at the
top of the checkout), it opens the database ringtest would open: $RINGTEST_DB,
else the default SQLite file.
"""

from alembic import context

from ringtest.store import database, schema


def _run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=schema.metadata,
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    _run_migrations(given)
else:
    engine = database.create_store_engine(database.resolve_url(None))
    try:
        with engine.connect() as opened:
            _run_migrations(opened)
    finally:
        engine.dispose()
