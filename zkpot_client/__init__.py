"""ZKPoT: zero-knowledge proof of training consensus for federated learning."""

__version__ = "0.1.0"
