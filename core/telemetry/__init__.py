"""Logs, traces and metrics set-up: configured once by each process entry point."""
