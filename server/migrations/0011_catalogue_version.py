from tortoise import migrations
from tortoise.migrations import operations as ops

# Each process keeps the rows a booking reads about its slot (the slot's times and capacity,
# the venue's rules, its hours and closing days, its card benefit): they change seldom, and
# reading them was a round trip on every booking. Every change to them bumps this one version,
# in the changing transaction (so it is seen exactly when the change is). The booking statement
# compares the version its rows were read under with this one and refuses as "stale" when they
# differ, so a process's kept rows can never book under rules changed since.
# Statement triggers: one bump per changing statement, also for TRUNCATE and bulk updates; a
# booking's UPDATE of a slot's places (booked, revision) is not a change of these.
_TABLE = (
    "CREATE TABLE IF NOT EXISTS catalogue_version ("
    "id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id), version BIGINT NOT NULL); "
    "INSERT INTO catalogue_version (id, version) VALUES (TRUE, 1) ON CONFLICT DO NOTHING;"
)
_FUNCTION = """
CREATE OR REPLACE FUNCTION bump_catalogue_version() RETURNS trigger AS $$
BEGIN
    UPDATE catalogue_version SET version = version + 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""
_WATCHED = {
    "venue": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "opening_hours": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "closing_day": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "card_benefit": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "time_slot": "UPDATE OF venue_id, date, starts_at, ends_at, capacity OR DELETE OR TRUNCATE",
}


def _trigger_name(table: str) -> str:
    return f"{table}_bumps_catalogue_version"


async def _create(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return  # SQLite keeps no rows between bookings: nothing to check
    await client.execute_script(_TABLE + _FUNCTION)
    for table, events in _WATCHED.items():
        await client.execute_script(
            f"CREATE TRIGGER {_trigger_name(table)} AFTER {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version()"
        )


async def _drop(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    for table in _WATCHED:
        await client.execute_script(f"DROP TRIGGER IF EXISTS {_trigger_name(table)} ON {table}")
    await client.execute_script(
        "DROP FUNCTION IF EXISTS bump_catalogue_version(); DROP TABLE IF EXISTS catalogue_version"
    )


class Migration(migrations.Migration):
    dependencies = [("etour", "0010_reservation_idempotency_key")]

    initial = False

    operations = [
        ops.RunPython(_create, _drop),
    ]
