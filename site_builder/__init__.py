"""The site side of kpisite: the Markdown extension for KPI directives, the mkdocs plugin
around it, and the command line (`kpisite build`, `serve`, `publish`, ...)."""
