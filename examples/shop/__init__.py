"""A small FastAPI shop with the async pitfalls async-lint finds. Try: async-lint check examples/"""
