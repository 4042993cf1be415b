from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

# The audit log is append-only in the database itself, not only in code: UPDATE is refused, and
# DELETE only passes for rows past the 180-day retention period (the retention job's deletes).
_POSTGRES_GUARD = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_entry is append-only: % refused', TG_OP;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""
_SQLITE_GUARD = [
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_entry_no_early_delete BEFORE DELETE ON audit_entry "
    "WHEN julianday(OLD.at) > julianday('now', '-180 days') "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: DELETE refused'); END",
]


async def _guard_audit_log(apps, schema_editor) -> None:
    client = schema_editor.client
    dialect = client.capabilities.dialect
    if dialect == "postgres":
        await client.execute_script(_POSTGRES_GUARD)
    elif dialect == "sqlite":
        for statement in _SQLITE_GUARD:
            await client.execute_script(statement)

class Migration(migrations.Migration):
    dependencies = [('etour', '0003_recommend')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('actor_id', fields.IntField(null=True)),
                ('actor_role', fields.CharField(max_length=16)),
                ('action', fields.CharField(max_length=64)),
                ('target_type', fields.CharField(max_length=40)),
                ('target_id', fields.CharField(max_length=64)),
                ('before', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('after', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('request_id', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'audit_entry', 'app': 'etour', 'indexes': [Index(fields=['actor_id', 'at']), Index(fields=['action', 'at']), Index(fields=['target_type', 'target_id', 'at'])], 'pk_attr': 'id', 'table_description': 'One admin action: who (and in which role) did what to which target, when, before/after.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UsageCount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=40)),
                ('date', fields.DateField()),
                ('hour', fields.SmallIntField()),
                ('count', fields.IntField(default=0)),
            ],
            options={'table': 'usage_count', 'app': 'etour', 'unique_together': (('name', 'date', 'hour'),), 'pk_attr': 'id', 'table_description': 'How often something happened in one local hour (food-map searches, ...), for the cockpit.'},
            bases=['Model'],
        ),
        ops.RunPython(_guard_audit_log),
    ]
