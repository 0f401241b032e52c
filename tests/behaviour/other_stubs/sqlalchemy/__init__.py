"""Stand-in for SQLAlchemy: engines over a dict of tables, sessions and connections that record being closed."""

OPEN = []
TABLES = {"users": [{"id": 1, "name": "ada"}, {"id": 2, "name": "grace"}]}


class TextClause:
    def __init__(self, sql):
        self.sql = sql


def text(sql):
    return TextClause(sql)


class Result:
    def __init__(self, value):
        self.value = value

    def scalar_one(self):
        return self.value


def run_sql(sql):
    words = sql.split()
    if words[:2] == ["select", "count(*)"]:
        return Result(len(TABLES[words[-1]]))
    return Result(int(words[1]))


class Engine:
    def __init__(self, url):
        self.url = url

    def connect(self):
        return Connection()


def create_engine(url, **kwargs):
    return Engine(url)


class _Tracked:
    def __init__(self):
        self.closed = False
        OPEN.append(self)

    def _check(self):
        if self.closed:
            raise RuntimeError(f"{type(self).__name__} is closed")

    def _close(self):
        self.closed = True
        if self in OPEN:
            OPEN.remove(self)


class Connection(_Tracked):
    def execute(self, clause):
        self._check()
        return run_sql(clause.sql)

    def close(self):
        self._close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._close()
