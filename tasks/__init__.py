"""What every stage of GenomicLLM shares, torch-free: the task registry, the prompt grammar, the exact rules, the
metrics, the benchmark list, the published anchors and the default paths. Each fact is defined once, here.

Nothing here imports another package of the project: datasets, tokenizer, model, training, evaluation, chat, the
Space and Hub publishing all read from this package, never the other way round.
"""

from .grammar import Unparseable, exact_answer, parse_answer, render_answer, render_example, render_prompt
from .registry import SEQUENCE_TASKS, TASKS, Task, get_task

__all__ = ["SEQUENCE_TASKS", "TASKS", "Task", "Unparseable", "exact_answer", "get_task", "parse_answer",
           "render_answer", "render_example", "render_prompt"]
