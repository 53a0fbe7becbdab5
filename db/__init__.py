"""paperbot's store: SQLAlchemy schema, engine set-up and every SQL statement the bot issues."""
