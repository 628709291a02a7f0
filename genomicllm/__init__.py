"""The `genomicllm` command (a console script, `genomicllm.cli:main`): the top of the project's import graph."""
