"""Taking data in: the collector, the legacy importers, problems, prompts, grading and the sandbox."""
