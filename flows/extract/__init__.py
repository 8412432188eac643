"""Extract: the record tables (entities, mentions, events, participants, quotes, facts, statements) from the content paragraphs."""
