"""The list editor: parse the list, format and insert entries, write the PR body, read the feedback."""
