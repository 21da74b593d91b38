"""The project's offline OpenAI-compatible endpoint and its simulated (synthetic) models."""

from .models import CATALOG, SyntheticModel
from .server import ServerConfig, SyntheticServer

__all__ = ["CATALOG", "ServerConfig", "SyntheticModel", "SyntheticServer"]
