"""Layer 3: everything that talks to a database: engines, history, executor, scratch, introspection, dialects."""
