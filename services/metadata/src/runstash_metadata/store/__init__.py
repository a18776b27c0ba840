"""The SQL tracking store: schema, dialect differences, migrations and the store itself."""
