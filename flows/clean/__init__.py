"""Clean: paragraphs, titles and page debris."""
