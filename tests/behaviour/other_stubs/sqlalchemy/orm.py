from sqlalchemy import TABLES, _Tracked, run_sql


class Session(_Tracked):
    def __init__(self, bind=None, **kwargs):
        super().__init__()
        self.bind = bind
        self.pending = []

    def execute(self, clause):
        self._check()
        return run_sql(clause.sql)

    def get(self, table, key):
        self._check()
        return next((row for row in TABLES[table] if row["id"] == key), None)

    def add(self, row):
        self._check()
        self.pending.append(row)

    def commit(self):
        self._check()
        TABLES["users"].extend(self.pending)
        self.pending = []

    def close(self):
        self.pending = []  # closing rolls back what was not committed, as SQLAlchemy does
        self._close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def sessionmaker(bind=None, class_=Session, **kwargs):
    return lambda: class_(bind)
