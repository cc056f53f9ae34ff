"""scafe: clinical criteria -> LLM-written, sandbox-validated feature extractors -> XGBoost."""

__version__ = "0.1.0"
