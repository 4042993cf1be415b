from tortoise import migrations
from tortoise.migrations import operations as ops

# The booking runs as one PostgreSQL statement without BEGIN/COMMIT (two round trips fewer). A
# refusal found inside it (slot full, day full, a daily quota) must undo its writes: this raises,
# which aborts the statement and so its implicit transaction. The reason travels in the HINT.
_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION refuse_booking(reason text) RETURNS boolean AS $$
BEGIN
    IF reason IS NOT NULL THEN
        RAISE EXCEPTION 'booking refused: %', reason USING HINT = reason;
    END IF;
    RETURN TRUE;
END
$$ LANGUAGE plpgsql VOLATILE;
"""


async def _create_refusal_function(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(_POSTGRES_FUNCTION)


async def _drop_refusal_function(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script("DROP FUNCTION IF EXISTS refuse_booking(text)")


class Migration(migrations.Migration):
    dependencies = [('etour', '0008_release_flash_crowd')]

    initial = False

    operations = [
        ops.RunPython(_create_refusal_function, _drop_refusal_function),
    ]
