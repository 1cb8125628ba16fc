"""Peer loaders (LangChain, LlamaIndex) run from their own virtual environment; see :mod:`bench.peers.run`."""
