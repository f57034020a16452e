"""Readers of recorded market data files (quote streams, chain downloads) for the replay feed."""
