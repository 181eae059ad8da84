"""The Explain page's subject: its state (and URL form) and what it shows (the view)."""
