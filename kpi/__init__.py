"""The KPI layer of kpisite: extracts, the KPI catalog and the engine that evaluates it.

Nothing here depends on mkdocs: the same layer answers `kpisite query`, the report
directives and any other caller through its Python API.
"""
