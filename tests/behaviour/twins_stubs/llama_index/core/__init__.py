"""Stand-in: an index whose query engine answers after a wait (time.sleep in `query`, asyncio.sleep in `aquery`)."""
import asyncio
import time

WAIT = 0.05


class Response:
    def __init__(self, text):
        self.response = text


class QueryEngine:
    def __init__(self, documents):
        self.documents = documents

    def _find(self, question):
        return Response(", ".join(d for d in self.documents if question in d) or "nothing")

    def query(self, question):
        time.sleep(WAIT)
        return self._find(question)

    async def aquery(self, question):
        await asyncio.sleep(WAIT)
        return self._find(question)


class VectorStoreIndex:
    def __init__(self, documents):
        self.documents = list(documents)

    @classmethod
    def from_documents(cls, documents):
        return cls(documents)

    def as_query_engine(self):
        return QueryEngine(self.documents)
