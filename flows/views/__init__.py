"""Views: readable tables for people, joined from the record tables (names, offices, events, dates and outlets instead of ids)."""
