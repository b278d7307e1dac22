"""Thematic analysis: pandas tables built from reviewer-confirmed codings (machine ones only on request)."""
from qualcode.analysis.frame import AnalysisData, load

__all__ = ["AnalysisData", "load"]
