"""Simulation and staffing core (no Django): call strategies, engine, closed forms."""
