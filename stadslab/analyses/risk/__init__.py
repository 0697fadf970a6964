"""Spatial risk prediction with honest backtests."""
