"""The conversational assistant at run time: SmolLM2 + a LoRA does the language, tools do the DNA.

`references` finds and numbers the sequences of a message, `tools` holds the exact rules, GenomicLLM's learned
answers (`genomicllm_answers`) and the gene look-up, `chat` runs the tool loop and loads the model. Training data,
the LoRA's training and its evaluation live in `finetune.chat`; the Space and `genomicllm chat` import this package.
"""
