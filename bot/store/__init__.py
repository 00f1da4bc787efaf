"""Storage: SQLModel tables, engines, units of work and the queries commands use."""
