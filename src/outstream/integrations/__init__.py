"""Plugins that put outstream inside other tools (`llm_plugin`: ``llm md``).

Each is loaded by its tool, through an entry point, never by outstream itself.
"""
