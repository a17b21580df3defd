"""A result store on DuckDB: runs with their config, metric tables and arrays.

Layout (one DuckDB file plus a folder of Parquet files next to it)::

    runs(run_id, kind, created, finished, status, config JSON, message)
    metric_cells(run_id, table_name, row_index, column_index, column_name, dtype, number, text)
    arrays(run_id, name, file, shape JSON, dtype)          -- data in <store>_arrays/<run_id>/<name>.parquet
    files(run_id, name, file)                              -- copies in <store>_arrays/<run_id>/files/<name>
                                                              (the report and its figures)

File paths in the database are relative to the run's own folder and are only
followed when they resolve inside the run's own folder. Commands that only
read open the file read-only; a store locked by another process is a
one-line :class:`StoreBusyError` naming that process (``wait=`` seconds to wait
for it). Runs are addressed by their full id or a unique prefix.

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

from ._connect import StoreBusyError, check_store_path, connect

__all__ = ["ResultStore", "Run", "RunRecord", "StoreBusyError", "check_store_path"]

_SAFE = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, kind VARCHAR, created TIMESTAMP, finished TIMESTAMP,
    status VARCHAR, config VARCHAR, message VARCHAR);
CREATE TABLE IF NOT EXISTS metric_cells (
    run_id VARCHAR, table_name VARCHAR, row_index INTEGER, column_index INTEGER, column_name VARCHAR,
    dtype VARCHAR, number DOUBLE, text VARCHAR);
CREATE TABLE IF NOT EXISTS arrays (run_id VARCHAR, name VARCHAR, file VARCHAR, shape VARCHAR, dtype VARCHAR);
CREATE TABLE IF NOT EXISTS files (run_id VARCHAR, name VARCHAR, file VARCHAR);
"""


@dataclass(frozen=True)
class RunRecord:
    """One run of a :class:`ResultStore`, as returned by :meth:`ResultStore.get_run`.

    Attributes
    ----------
    run_id : str
        The run's id (a UUID hex string).
    kind : str
        What made it (``"pipeline"``, ``"sweep"``, ...).
    created, finished : datetime
        Start and end times (``finished`` is None while running or after a crash).
    status : {"incomplete", "complete", "failed"}
        The run's state.
    config : dict
        The configuration, as JSON.
    message : str
        The error of a failed run, else empty.
    """

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
    """A result store on DuckDB: runs with their config, metric tables, arrays and files.

    One DuckDB file holds the tables ``runs``, ``metric_cells``, ``arrays`` and
    ``files``; the arrays and files live in a folder of Parquet files next to it.
    Every write is its own transaction, and a run is created with status
    ``"incomplete"``; only the normal end of :meth:`run` marks it ``"complete"``
    (``"failed"`` with the error on an exception), so a crash leaves the earlier
    runs untouched and this one visibly incomplete. Runs are addressed by their
    full id or a unique prefix.

    Parameters
    ----------
    path : str or Path
        The store, a ``.duckdb`` (or ``.db``) file, created if missing.
    read_only : bool, default False
        Open an existing store without writing (several readers may share it).
    wait : float, default 0
        Seconds to wait for another process's lock before :class:`StoreBusyError`.

    Raises
    ------
    ValueError
        If ``path`` does not name a DuckDB file.
    StoreBusyError
        If another process holds the lock for longer than ``wait``.

    Examples
    --------
    >>> import os, shutil, tempfile
    >>> import numpy as np
    >>> from meanfolio.data import ResultStore
    >>> folder = tempfile.mkdtemp()
    >>> with ResultStore(os.path.join(folder, "results.duckdb")) as store:
    ...     with store.run("demo", {"alpha": 0.5}) as run:
    ...         run.save_metrics("table", {"x": [1, 2], "y": [0.5, 1.5]})
    ...         run.save_array("weights", np.arange(6.0).reshape(2, 3))
    ...     run_id = store.list_runs()["run_id"][0]
    ...     record = store.get_run(run_id)
    ...     weights = store.array(run_id, "weights")
    >>> record.kind, record.status, record.config
    ('demo', 'complete', {'alpha': 0.5})
    >>> weights
    array([[0., 1., 2.],
           [3., 4., 5.]])
    >>> shutil.rmtree(folder)
    """

    def __init__(self, path: str | Path, *, read_only: bool = False, wait: float = 0.0):
        self.path = check_store_path(path)
        self.read_only = read_only
        self.array_dir = self.path.with_name(self.path.stem + "_arrays")
        if read_only and not self.path.is_file():
            raise ValueError(f"store {str(self.path)!r} does not exist: run a pipeline first or pass --store")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = connect(self.path, read_only=read_only, wait=wait)
        if not read_only:
            self.con.execute(_SCHEMA)

    def has_table(self, name: str) -> bool:
        """Whether the store holds the table ``name`` (an old or a sweeps-only store may lack some)."""
        row = self.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])
        return bool(row.fetchone()[0])

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
        """A context manager registering a run and marking it complete (or failed) at its end.

        ``with store.run("pipeline", config) as run: run.save_metrics(...); ...``
        """
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

        if not self.has_table("runs"):
            kinds = {"created": pl.Datetime, "finished": pl.Datetime}
            names = ("run_id", "kind", "created", "finished", "status", "message")
            return pl.DataFrame(schema={n: kinds.get(n, pl.String) for n in names})
        cur = self.con.execute(
            "SELECT run_id, kind, created, finished, status, message FROM runs ORDER BY created DESC, run_id"
        )
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        return pl.DataFrame(
            {n: [r[i] for r in rows] for i, n in enumerate(names)},
            schema={n: (pl.Datetime if n in ("created", "finished") else pl.String) for n in names},
        )

    def resolve(self, prefix: str) -> str:
        """The full id of the run whose id is ``prefix`` or starts with it; KeyError if none or several."""
        if not self.has_table("runs"):
            raise KeyError(f"run_id = {prefix!r} is not in {self.path}: the store holds no runs")
        ids = [r[0] for r in self.con.execute("SELECT run_id FROM runs WHERE run_id = ?", [prefix]).fetchall()]
        if not ids:
            query = "SELECT run_id FROM runs WHERE starts_with(run_id, ?) ORDER BY run_id"
            ids = [r[0] for r in self.con.execute(query, [prefix]).fetchall()]
        if not ids:
            raise KeyError(f"run_id = {prefix!r} is not in {self.path}: see `meanfolio runs list`")
        if len(ids) > 1:
            shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
            raise KeyError(f"run_id = {prefix!r} is ambiguous in {self.path}: it starts {len(ids)} runs ({shown}); "
                           "expected a longer prefix")  # fmt: skip
        return ids[0]

    def get_run(self, run_id: str) -> RunRecord:
        """The run ``run_id`` (a full id or a unique prefix)."""
        run_id = self.resolve(run_id)
        row = self.con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).fetchone()
        rid, kind, created, finished, status, config, message = row
        return RunRecord(rid, kind, created, finished, status, json.loads(config), message)

    def metrics(self, run_id: str) -> dict[str, Any]:
        """Every metric table of a run as polars DataFrames (columns and dtypes as written)."""
        import polars as pl

        run_id = self.resolve(run_id)
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
        run_id = self.resolve(run_id)
        rows = self.con.execute("SELECT name FROM arrays WHERE run_id = ? ORDER BY name", [run_id]).fetchall()
        return {name: self.array(run_id, name) for (name,) in rows}

    def _array_file(self, run_id: str, name: str, file: str) -> Path:
        """The array's file, refused unless it resolves inside the run's own folder of the store
        (a crafted store must not make us read or copy files elsewhere, e.g. through ``..`` or a symlink)."""
        root = (self.array_dir / _safe_name("run_id", run_id)).resolve()
        # Paths are stored relative to the run's folder; stores written before that hold "<run_id>/<file>".
        legacy = file.startswith(f"{run_id}/")
        path = ((self.array_dir if legacy else root) / file).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise ValueError(
                f"array {name!r} of run {run_id!r} points to {file!r}, which is not allowed: "
                f"expected a file inside the run's folder {root}"
            )
        return path

    def array(self, run_id: str, name: str) -> np.ndarray:
        import pyarrow.parquet as pq

        run_id = self.resolve(run_id)
        row = self.con.execute("SELECT file, shape, dtype FROM arrays WHERE run_id = ? AND name = ?",
                               [run_id, name]).fetchone()  # fmt: skip
        if row is None:
            raise KeyError(f"run {run_id!r} has no array {name!r}")
        file, shape, dtype = row
        values = pq.read_table(self._array_file(run_id, name, file)).column("value").to_numpy()
        return values.astype(dtype).reshape(json.loads(shape))

    def files(self, run_id: str) -> dict[str, Path]:
        """The files kept with a run (its report and figures): name -> path inside the run's folder."""
        run_id = self.resolve(run_id)
        if not self.has_table("files"):
            return {}
        rows = self.con.execute("SELECT name, file FROM files WHERE run_id = ? ORDER BY name", [run_id]).fetchall()
        return {name: self._array_file(run_id, name, file) for name, file in rows}

    def export(self, run_id: str, folder: str | Path) -> Path:
        """Write a run to ``folder``: config.json, run.json, metrics/<table>.csv, arrays/<name>.parquet and
        report/ (report.html and the figures). Only files inside the run's own folder of the store are read."""
        rec = self.get_run(run_id)
        run_id = rec.run_id
        rows = self.con.execute("SELECT name, file FROM arrays WHERE run_id = ?", [run_id]).fetchall()
        sources = [(self._array_file(run_id, name, file), "arrays", f"{_safe_name('array name', name)}.parquet")
                   for name, file in rows]  # fmt: skip
        sources += [(path, "report", _safe_name("file name", name)) for name, path in self.files(run_id).items()]
        folder = Path(folder)  # every path is checked before anything is written
        (folder / "metrics").mkdir(parents=True, exist_ok=True)
        (folder / "arrays").mkdir(exist_ok=True)
        (folder / "config.json").write_text(json.dumps(rec.config, indent=2, sort_keys=True))
        meta = {k: str(v) for k, v in rec.__dict__.items() if k != "config"}
        (folder / "run.json").write_text(json.dumps(meta, indent=2))
        for name, frame in self.metrics(run_id).items():
            frame.write_csv(folder / "metrics" / f"{_safe_name('table name', name)}.csv")
        for source, sub, name in sources:
            (folder / sub).mkdir(exist_ok=True)
            shutil.copyfile(source, folder / sub / name)
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
        rel = f"{name}.parquet"  # relative to the run's folder
        self.store.transaction([
            ("DELETE FROM arrays WHERE run_id = ? AND name = ?", [self.run_id, name]),
            ("INSERT INTO arrays VALUES (?, ?, ?, ?, ?)", [self.run_id, name, rel, json.dumps(list(arr.shape)),
                                                           str(arr.dtype)]),
        ])  # fmt: skip

    def save_file(self, name: str, path: str | Path) -> None:
        """Keep a copy of a file (the report, a figure) with the run, under ``<arrays>/<run_id>/files/``."""
        _safe_name("file name", name)
        folder = self.store.array_dir / self.run_id / "files"
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.tmp"
        shutil.copyfile(path, tmp)
        os.replace(tmp, folder / name)
        self.store.transaction([
            ("DELETE FROM files WHERE run_id = ? AND name = ?", [self.run_id, name]),
            ("INSERT INTO files VALUES (?, ?, ?)", [self.run_id, name, f"files/{name}"]),
        ])  # fmt: skip
