"""Layer 1: the schema state, naming, SQLAlchemy <-> state, code generation of values and types."""
