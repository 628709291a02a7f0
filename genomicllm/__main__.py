"""`python -m genomicllm ...` is the `genomicllm` command."""

from .cli import main

raise SystemExit(main())
