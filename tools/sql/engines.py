"""The SQL engines `rulec compile --target sql` is tested in, behind one small interface: `rows(sql,
tables)` runs a query (with `tables`: name -> rows of (line_number, line) made into tables first) and
returns its rows as tuples; `QueryError` is what a query that stops itself (`error`/`raise_error`)
raises.

RULEC_SQL_ENGINES=duckdb,spark chooses them (default: both, Spark only when pyspark is installed).
"""
import os

import duckdb


class DuckDB:
    name = "duckdb"
    QueryError = duckdb.Error

    def rows(self, sql, tables=None):
        connection = duckdb.connect()
        for table, rows in (tables or {}).items():
            connection.execute(f"CREATE TABLE {table} (line_number BIGINT, line VARCHAR)")
            connection.executemany(f"INSERT INTO {table} VALUES (?, ?)", rows)
        return connection.sql(sql).fetchall()


class Spark:
    """Apache Spark in local mode: one session for the whole test run (it takes seconds to start),
    two threads and two shuffle partitions (the default 200 makes each small query slow)."""
    name = "spark"
    session = None

    def __init__(self):
        from pyspark.errors import PySparkException
        self.QueryError = PySparkException
        if Spark.session is None:
            from pyspark.sql import SparkSession
            Spark.session = (SparkSession.builder.master("local[2]").appName("rulec-sql-tests")
                             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                             # Splits of 64 KiB: even the small recordings of the tests are read in many
                             # splits, so the query's line numbering across splits is tested.
                             .config("spark.sql.files.maxPartitionBytes", "65536")
                             .config("spark.driver.memory", "1g").getOrCreate())
            Spark.session.sparkContext.setLogLevel("ERROR")

    def rows(self, sql, tables=None):
        for table, rows in (tables or {}).items():
            self.session.createDataFrame(rows, "line_number BIGINT, line STRING").createOrReplaceTempView(table)
        settings, query = split_settings(sql)
        for setting in settings:
            self.session.sql(setting)
        return [tuple(r) for r in self.session.sql(query).collect()]


def split_settings(sql):
    """A Spark file's `SET` statements (each a line of its own, ending in `;`) and its query."""
    settings, query = [], []
    for line in sql.split("\n"):
        if line.startswith("SET ") and line.rstrip().endswith(";"):
            settings.append(line.rstrip().rstrip(";"))
        else:
            query.append(line)
    return settings, "\n".join(query).rstrip().rstrip(";")


def _available():
    chosen = os.environ.get("RULEC_SQL_ENGINES")
    if chosen:
        return [name.strip() for name in chosen.split(",") if name.strip()]
    try:
        import pyspark  # noqa: F401
        return ["duckdb", "spark"]
    except ImportError:
        return ["duckdb"]


ENGINES = _available()
_made = {}


def engine_named(name):
    if name not in _made:
        _made[name] = {"duckdb": DuckDB, "spark": Spark}[name]()
    return _made[name]
