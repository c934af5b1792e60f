"""The world coming in: strings, bytes, iterables, files and stdin."""
