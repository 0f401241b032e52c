"""The language server (`async-lint server`); needs the `server` extra: `pip install 'async-lint[server]'`.

lsp.py speaks the protocol (pygls), session.py lints and fixes buffers, convert.py turns findings into LSP data.
"""
