"""The frozen system graph (``ir``) and what reads only it: validation, summaries, pictures."""
