"""The world going out: what a stream is, and writing to it right."""
