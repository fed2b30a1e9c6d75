"""Pure analysis of text data, below every engine layer (it imports nothing else from aura_nb).

- `timestamps`: finding and parsing timestamps in log lines and fields.
- `templates`: log template mining (`mine`, `TemplateMiner`).
- `shape`: what an output looks like (JSON, NDJSON, CSV, log lines, markdown, text, binary).
"""
