def collecting_editor(name):
    from migrate_core.db.schema_editor import SchemaEditor
    return SchemaEditor(dialect_name="mysql" if name == "mariadb" else name)
