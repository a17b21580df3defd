"""A result store on DuckDB: runs with their config, metric tables and arrays.

Layout (one DuckDB file plus a folder of Parquet files next to it)::

    runs(run_id, kind, created, finished, status, config JSON, message)
    metric_cells(run_id, table_name, row_index, column_index, column_name, dtype, number, text)
    arrays(run_id, name, file, shape JSON, dtype)          -- data in <store>_arrays/<run_id>/<name>.parquet

Every write is its own transaction, and a run is created with status
"incomplete"; only the normal end of :meth:`ResultStore.run` marks it
"complete" ("failed" with the error on an exception, "incomplete" on
Ctrl-C). A crash or a kill therefore leaves the earlier runs untouched and
this one visibly incomplete, with whatever it had finished writing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ResultStore", "Run", "RunRecord"]

_SAFE = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, kind VARCHAR, created TIMESTAMP, finished TIMESTAMP,
    status VARCHAR, config VARCHAR, message VARCHAR);
CREATE TABLE IF NOT EXISTS metric_cells (
    run_id VARCHAR, table_name VARCHAR, row_index INTEGER, column_index INTEGER, column_name VARCHAR,
    dtype VARCHAR, number DOUBLE, text VARCHAR);
CREATE TABLE IF NOT EXISTS arrays (run_id VARCHAR, name VARCHAR, file VARCHAR, shape VARCHAR, dtype VARCHAR);
"""


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    kind: str
    created: datetime
    finished: datetime | None
    status: str
    config: dict[str, Any]
    message: str


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return value


class ResultStore:
    """Open (or create) the store at ``path`` (a ``.duckdb`` file)."""

    def __init__(self, path: str | Path):
        import duckdb

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.array_dir = self.path.with_name(self.path.stem + "_arrays")
        self.con = duckdb.connect(str(self.path))
        self.con.execute(_SCHEMA)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing -------------------------------------------------------------
    def transaction(self, statements: list[tuple[str, list]]) -> None:
        """Run (sql, params) pairs in one transaction (params a list of rows means executemany; a
        polars DataFrame is bulk data that the sql reads as the relation ``bulk``); rolled back
        entirely on any error. Other tables of the same file (e.g. the sweeps') use it too."""
        import polars as pl

        self.con.execute("BEGIN TRANSACTION")
        try:
            for sql, params in statements:
                if isinstance(params, pl.DataFrame):
                    self.con.register("bulk", params.to_arrow())
                    try:
                        self.con.execute(sql)
                    finally:
                        self.con.unregister("bulk")
                elif params and isinstance(params[0], (list, tuple)):
                    self.con.executemany(sql, params)
                else:
                    self.con.execute(sql, params)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def start_run(self, kind: str, config: dict[str, Any], run_id: str | None = None) -> Run:
        """Register a run (status "incomplete") and return its writer."""
        run_id = _safe_name("run_id", run_id or f"{kind}-{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}")
        text = json.dumps(_jsonable(config), sort_keys=True)
        self.transaction([("INSERT INTO runs VALUES (?, ?, ?, NULL, 'incomplete', ?, '')",
                            [run_id, kind, datetime.now(), text])])  # fmt: skip
        return Run(self, run_id)

    @contextmanager
    def run(self, kind: str, config: dict[str, Any], run_id: str | None = None) -> Iterator[Run]:
        """``with store.run("pipeline", config) as run: run.save_metrics(...); ...``"""
        run = self.start_run(kind, config, run_id)
        try:
            yield run
        except KeyboardInterrupt:
            self._finish(run.run_id, "incomplete", "interrupted (Ctrl-C)")
            raise
        except BaseException as exc:
            self._finish(run.run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        self._finish(run.run_id, "complete", "")

    def _finish(self, run_id: str, status: str, message: str) -> None:
        self.transaction([("UPDATE runs SET status = ?, message = ?, finished = ? WHERE run_id = ?",
                            [status, message[:2000], datetime.now(), run_id])])  # fmt: skip

    # -- reading -------------------------------------------------------------
    def list_runs(self):
        """Polars DataFrame of every run, newest first."""
        import polars as pl

        cur = self.con.execute(
            "SELECT run_id, kind, created, finished, status, message FROM runs ORDER BY created DESC, run_id"
        )
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        return pl.DataFrame(
            {n: [r[i] for r in rows] for i, n in enumerate(names)},
            schema={n: (pl.Datetime if n in ("created", "finished") else pl.String) for n in names},
        )

    def get_run(self, run_id: str) -> RunRecord:
        row = self.con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).fetchone()
        if row is None:
            raise KeyError(f"run_id = {run_id!r} is not in {self.path}: see `meanfolio runs list`")
        rid, kind, created, finished, status, config, message = row
        return RunRecord(rid, kind, created, finished, status, json.loads(config), message)

    def metrics(self, run_id: str) -> dict[str, Any]:
        """Every metric table of a run as polars DataFrames (columns and dtypes as written)."""
        import polars as pl

        self.get_run(run_id)
        cells = self.con.execute(
            "SELECT table_name, row_index, column_index, column_name, dtype, number, text FROM metric_cells "
            "WHERE run_id = ? ORDER BY table_name, column_index, row_index", [run_id]
        ).fetchall()  # fmt: skip
        tables: dict[str, dict[int, tuple[str, str, list]]] = {}
        for name, _, col, col_name, dtype, number, text in cells:
            entry = tables.setdefault(name, {}).setdefault(col, (col_name, dtype, []))
            entry[2].append(text if dtype == "String" else number)
        out = {}
        for name, cols in tables.items():
            series = []
            for _, (col_name, dtype, values) in sorted(cols.items()):
                if dtype in ("Int64", "Boolean"):
                    convert = bool if dtype == "Boolean" else int
                    values = [None if v is None else convert(v) for v in values]
                series.append(pl.Series(col_name, values, dtype=getattr(pl, dtype)))
            out[name] = pl.DataFrame(series)
        return out

    def arrays(self, run_id: str) -> dict[str, np.ndarray]:
        self.get_run(run_id)
        rows = self.con.execute("SELECT name FROM arrays WHERE run_id = ? ORDER BY name", [run_id]).fetchall()
        return {name: self.array(run_id, name) for (name,) in rows}

    def _array_file(self, run_id: str, name: str, file: str) -> Path:
        """The array's file, refused unless it resolves inside the run's own folder of the store
        (a crafted store must not make us read or copy files elsewhere, e.g. through ``..`` or a symlink)."""
        root = (self.array_dir / _safe_name("run_id", run_id)).resolve()
        path = (self.array_dir / file).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise ValueError(
                f"array {name!r} of run {run_id!r} points to {file!r}, which is not allowed: "
                f"expected a file inside the run's folder {root}"
            )
        return path

    def array(self, run_id: str, name: str) -> np.ndarray:
        import pyarrow.parquet as pq

        row = self.con.execute("SELECT file, shape, dtype FROM arrays WHERE run_id = ? AND name = ?",
                               [run_id, name]).fetchone()  # fmt: skip
        if row is None:
            raise KeyError(f"run {run_id!r} has no array {name!r}")
        file, shape, dtype = row
        values = pq.read_table(self._array_file(run_id, name, file)).column("value").to_numpy()
        return values.astype(dtype).reshape(json.loads(shape))

    def export(self, run_id: str, folder: str | Path) -> Path:
        """Write a run to ``folder``: config.json, run.json, metrics/<table>.csv, arrays/<name>.parquet."""
        rec = self.get_run(run_id)
        folder = Path(folder)
        (folder / "metrics").mkdir(parents=True, exist_ok=True)
        (folder / "arrays").mkdir(exist_ok=True)
        (folder / "config.json").write_text(json.dumps(rec.config, indent=2, sort_keys=True))
        meta = {k: str(v) for k, v in rec.__dict__.items() if k != "config"}
        (folder / "run.json").write_text(json.dumps(meta, indent=2))
        for name, frame in self.metrics(run_id).items():
            frame.write_csv(folder / "metrics" / f"{_safe_name('table name', name)}.csv")
        rows = self.con.execute("SELECT name, file FROM arrays WHERE run_id = ?", [run_id]).fetchall()
        for name, file in rows:
            source = self._array_file(run_id, name, file)
            shutil.copyfile(source, folder / "arrays" / f"{_safe_name('array name', name)}.parquet")
        return folder


def _safe_name(what: str, name: str) -> str:
    """A name used as a file name: letters, digits, '_', '-', '.', not starting with '.' (no path separators,
    no '..'), so that names read from a store can never address a file outside the chosen folder."""
    if not isinstance(name, str) or not _SAFE.fullmatch(name):
        raise ValueError(f"{what} = {name!r} is not allowed: expected letters, digits, '_', '-' or '.' "
                         "(not starting with '.')")  # fmt: skip
    return name


class Run:
    """Writer of one run; every call is one transaction."""

    def __init__(self, store: ResultStore, run_id: str):
        self.store = store
        self.run_id = run_id

    def save_metrics(self, name: str, table) -> None:
        """Store a table: a polars DataFrame, a dict of columns, or a list of row dicts."""
        import polars as pl

        frame = table if isinstance(table, pl.DataFrame) else pl.DataFrame(table)
        parts = []
        for j, col in enumerate(frame.columns):
            s = frame[col]
            if s.dtype == pl.String:
                dtype, numbers, texts = "String", pl.repeat(None, len(s), dtype=pl.Float64, eager=True), s
            elif s.dtype == pl.Boolean or s.dtype.is_integer() or s.dtype.is_float():
                dtype = "Boolean" if s.dtype == pl.Boolean else ("Int64" if s.dtype.is_integer() else "Float64")
                numbers, texts = s.cast(pl.Float64), pl.repeat(None, len(s), dtype=pl.String, eager=True)
            else:
                dtype = "String"
                numbers, texts = pl.repeat(None, len(s), dtype=pl.Float64, eager=True), s.cast(pl.String)
            # one column's cells as a frame: bulk-inserted, not one statement per cell
            parts.append(pl.DataFrame({
                "run_id": pl.repeat(self.run_id, len(s), eager=True), "table_name": pl.repeat(name, len(s), eager=True),
                "row_index": pl.int_range(0, len(s), eager=True, dtype=pl.Int64),
                "column_index": pl.repeat(j, len(s), eager=True, dtype=pl.Int64),
                "column_name": pl.repeat(col, len(s), eager=True), "dtype": pl.repeat(dtype, len(s), eager=True),
                "number": numbers.rename("number"), "text": texts.rename("text"),
            }))  # fmt: skip
        cells = pl.concat(parts) if parts else None
        self.store.transaction([
            ("DELETE FROM metric_cells WHERE run_id = ? AND table_name = ?", [self.run_id, name]),
            ("INSERT INTO metric_cells SELECT * FROM bulk", cells),
        ] if cells is not None and cells.height else [])  # fmt: skip

    def save_array(self, name: str, array) -> None:
        """Store a numeric array (any shape) as a Parquet file registered in the store."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        _safe_name("array name", name)
        arr = np.asarray(array)
        if arr.dtype.kind not in "fiub":
            raise ValueError(f"array {name!r} has dtype {arr.dtype} which is not allowed: expected numbers")
        folder = self.store.array_dir / self.run_id
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{name}.parquet"
        tmp = folder / f".{name}.parquet.tmp"
        pq.write_table(pa.table({"value": np.ascontiguousarray(arr).ravel()}), tmp)
        os.replace(tmp, final)  # atomic: a reader never sees half a file
        rel = f"{self.run_id}/{name}.parquet"
        self.store.transaction([
            ("DELETE FROM arrays WHERE run_id = ? AND name = ?", [self.run_id, name]),
            ("INSERT INTO arrays VALUES (?, ?, ?, ?, ?)", [self.run_id, name, rel, json.dumps(list(arr.shape)),
                                                           str(arr.dtype)]),
        ])  # fmt: skip
