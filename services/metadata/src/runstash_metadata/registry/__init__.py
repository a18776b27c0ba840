"""The model registry: registered models, versions, aliases, tags, prompts and webhooks."""
