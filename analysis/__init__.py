"""Statistics and figures read from the marts."""
