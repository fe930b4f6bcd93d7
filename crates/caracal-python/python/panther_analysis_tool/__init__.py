"""The parts of panther-analysis-tool's package that public detections import
(`panther_analysis_tool.enriched_event` in data models), answered by caracal."""
