"""Baselines the feature library is compared against (seed 002's radiomics set, a CNN, LLM classifiers)."""
