"""Commands: one module per capability; modules starting with "_" are private helpers."""
