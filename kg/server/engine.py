"""Query execution for `kg serve`: worker processes over read-only snapshots of the store.

pyoxigraph cannot cancel a running query, and a query can take all the memory it likes, so
every query, update and store-backed page runs in a worker process that the server may kill:

- **time**: a job that has not answered within its time limit is killed (503), and the worker
  is replaced;
- **memory**: the worker's resident memory is watched while it works; past the cap it is killed
  (503) — an 896-byte query of nested CONCATs otherwise takes gigabytes in seconds;
- **fair shares**: a client (by address; loopback clients are not told apart) runs at most
  `per_client` jobs at once and the rest wait their turn, so one client cannot hold every worker;
  and a job still running after RENICE_AFTER seconds has its process lowered in priority, so that
  long queries share the CPU with short ones instead of starving them.

Workers open the store read-only (a static snapshot, possible while `kg build` writes) and take a
fresh snapshot when theirs is older than REFRESH_SECONDS.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional

import anyio

from .protocol import Operation, ProtocolError, one_line, with_using

REFRESH_SECONDS = 1.0
RENICE_AFTER = 0.5          # seconds a job runs before its worker yields the CPU to shorter ones
LOW_PRIORITY = 19
POLL_SECONDS = 0.02         # how often a running job's time and memory are checked


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: Optional[dict] = None

    @classmethod
    def text(cls, status: int, message: str) -> "Answer":
        return cls(status, "text/plain; charset=utf-8", (one_line(message) + "\n").encode("utf-8"))


# ====================================================================== worker process

class _CapExceeded(Exception):
    pass


class _CountingWriter:
    """A binary sink for pyoxigraph's serializer that counts lines and stops past a cap."""

    def __init__(self, cap_lines: int):
        import io
        self.buf = io.BytesIO()
        self.lines = 0
        self.cap = cap_lines

    def write(self, b) -> int:
        b = bytes(b)
        self.lines += b.count(b"\n")
        if self.lines > self.cap:
            raise _CapExceeded()
        return self.buf.write(b)

    def flush(self) -> None:
        pass


class Worker:
    """What one worker process holds: a read-only snapshot of the store, and the result cap."""

    def __init__(self, store_path: str, max_results: int):
        self.path = store_path
        self.max_results = max_results
        self.store = None
        self.opened = 0.0
        self.generation = 0     # the engine's count of updates this worker's snapshot has seen

    def snapshot(self):
        from ..store import Store
        if self.store is None or time.monotonic() - self.opened > REFRESH_SECONDS:
            if self.store is not None:
                self.store.close()
                self.store = None
            self.store = Store.open(self.path, read_only=True)
            self.opened = time.monotonic()
        return self.store

    def sparql(self, op: Operation, base_iri: Optional[str]) -> Answer:
        import pyoxigraph as ox

        from ..namespaces import PREFIXES
        from .formats import negotiate, rdf_format, results_format
        cap = self.max_results
        dataset: dict[str, Any] = {"use_default_graph_as_union": True}
        if op.default_graphs or op.named_graphs:
            # A dataset given by the protocol replaces the query's FROM / FROM NAMED (§2.1.4).
            dataset = {"default_graph": [ox.NamedNode(g) for g in op.default_graphs] or ox.DefaultGraph(),
                       "named_graphs": [ox.NamedNode(g) for g in op.named_graphs] or None}
            if not op.default_graphs:
                dataset["default_graph"] = []

        def run(oxstore) -> Answer:
            res = oxstore.query(op.text, prefixes=PREFIXES, base_iri=base_iri, **dataset)
            if isinstance(res, (ox.QueryBoolean, ox.QuerySolutions)):
                name = negotiate("results", op.accept, op.formats)
                if name is None:
                    return _not_acceptable()
                qf = results_format(name)
                if isinstance(res, ox.QueryBoolean):
                    return Answer(200, _ctype(qf.media_type), res.serialize(format=qf))
                # TSV has one line per solution (newlines in literals are escaped): count them
                # while pyoxigraph writes, stop past the cap, then convert losslessly.
                w = _CountingWriter(cap + 1)      # + the header line
                try:
                    res.serialize(w, format=ox.QueryResultsFormat.TSV)
                except _CapExceeded:
                    return _cap_error(cap)
                data = w.buf.getvalue()
                if name != "tsv":
                    data = ox.parse_query_results(data, ox.QueryResultsFormat.TSV).serialize(format=qf)
                return Answer(200, _ctype(qf.media_type), data)
            name = negotiate("graph", op.accept, op.formats)
            if name is None:
                return _not_acceptable()
            triples = []
            for t in res:
                triples.append(t)
                if len(triples) > cap:
                    return _cap_error(cap)
            rf = rdf_format(name)
            data = ox.serialize(triples, format=rf, prefixes=PREFIXES if rf == ox.RdfFormat.TURTLE else None)
            return Answer(200, _ctype(rf.media_type), data)

        try:
            return self.snapshot().read(run)
        except SyntaxError as e:
            return Answer.text(400, f"SPARQL syntax error: {e}")
        except (ValueError, TypeError) as e:     # a graph IRI the engine refuses
            return Answer.text(400, f"bad request: {e}")

    def update(self, op: Operation, base_iri: Optional[str]) -> Answer:
        from ..namespaces import PREFIXES
        from ..store import Store, StoreLocked
        from .. import summary
        text = with_using(op.text, op.default_graphs, op.named_graphs) \
            if op.default_graphs or op.named_graphs else op.text
        try:
            store = Store.open(self.path)
        except StoreLocked as e:
            return Answer.text(503, f"cannot update: {e}")
        try:
            store.ox.update(text, prefixes=PREFIXES, base_iri=base_iri)
            # documents may have changed, their localities unknown: the matrix summary is
            # not trusted until the next build recomputes it (kg.summary)
            summary.mark_pending(store)
        except SyntaxError as e:
            return Answer.text(400, f"SPARQL syntax error: {e}")
        except (ValueError, TypeError, RuntimeError) as e:
            # what the update asks cannot be done (CLEAR GRAPH of a graph that does not exist)
            return Answer.text(400, f"the update failed: {e}")
        finally:
            store.close()
        self.opened = 0.0          # see the change on the next read
        return Answer(204, "text/plain; charset=utf-8", b"")

    def page(self, name: str, params: dict) -> Answer:
        from . import pages
        try:
            html = getattr(pages, name)(self.snapshot(), params)
        except pages.PageError as e:
            return Answer(e.status, "text/html; charset=utf-8", pages.error_page(e.status, str(e)).encode())
        return Answer(200, "text/html; charset=utf-8", html.encode("utf-8"))


def _ctype(media: str) -> str:
    return f"{media}; charset=utf-8"


def _cap_error(cap: int) -> Answer:
    return Answer.text(400, f"the result exceeds the {cap}-row cap: add a LIMIT, or start the server "
                            f"with a larger --max-results")


def _not_acceptable() -> Answer:
    return Answer.text(406, "none of the Accept header's media types can be written for this result")


def _worker_main(conn, store_path: str, max_results: int) -> None:
    """Loop of a worker process: say ready, then receive (method, args) and send an Answer."""
    try:
        w = Worker(store_path, max_results)
        w.snapshot()
        conn.send("ready")
    except Exception as e:   # noqa: BLE001 — told to the parent, which gives up on this worker
        conn.send(f"error: {e}")
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if task is None:
            return
        method, args, generation = task
        if generation != w.generation:
            # an update went through another worker since this one took its snapshot
            w.generation, w.opened = generation, 0.0
        try:
            answer = getattr(w, method)(*args)
        except ProtocolError as e:
            answer = Answer.text(e.status, str(e))
        except Exception as e:   # noqa: BLE001 — reported to the client, the worker keeps serving
            from ..store import StoreError
            answer = Answer.text(503 if isinstance(e, StoreError) else 500, f"{type(e).__name__}: {e}")
        try:
            conn.send(answer)
        except (BrokenPipeError, EOFError):
            return


# ====================================================================== server side

def resident_bytes(pid: int) -> int:
    """Resident memory of a process (Linux /proc; 0 where it cannot be read)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class _Proc:
    def __init__(self, ctx, store_path: str, max_results: int):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, store_path, max_results),
                                   daemon=True, name="kg-serve-worker")
        self.process.start()
        child.close()
        self.lowered = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float) -> Optional[str]:
        """None when the worker has opened the store, else why not."""
        if not self.conn.poll(timeout):
            return "the query worker did not start"
        try:
            msg = self.conn.recv()
        except (EOFError, OSError):
            return "the query worker died while starting"
        return None if msg == "ready" else str(msg)

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(2)
        except Exception:   # noqa: BLE001 — already gone
            pass
        self.conn.close()


class Engine:
    """The pool of worker processes and the rules a job runs under."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.ctx = multiprocessing.get_context("spawn")
        self._idle: Optional[asyncio.Queue] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._all: set = set()
        self._lock = threading.Lock()
        self._shares: dict[str, list] = {}     # client → [semaphore, jobs waiting or running]
        self._closed = False
        self.generation = 0         # updates done: a worker's snapshot older than the last is renewed

    # ------------------------------------------------------------ life cycle

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Queue()
        procs = await anyio.to_thread.run_sync(self._spawn_ready_all)
        for p in procs:
            self._idle.put_nowait(p)

    def _spawn_ready_all(self) -> list:
        from ..store import StoreError
        procs = [self._spawn() for _ in range(max(1, self.cfg.workers))]
        for p in procs:
            why = p.wait_ready(60)
            if why:
                for q in procs:
                    q.kill()
                raise StoreError(why)
        return procs

    def _spawn(self) -> _Proc:
        p = _Proc(self.ctx, self.cfg.store, self.cfg.max_results)
        with self._lock:
            self._all.add(p)
        return p

    def _replace(self, p: _Proc) -> None:
        """Kill `p` and start another in the background; it joins the idle queue when ready."""
        with self._lock:
            self._all.discard(p)
        p.kill()
        if self._closed:
            return

        def respawn():
            q = self._spawn()
            if q.wait_ready(60) is None and not self._closed:
                self._loop.call_soon_threadsafe(self._idle.put_nowait, q)
            else:
                with self._lock:
                    self._all.discard(q)
                q.kill()
        threading.Thread(target=respawn, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            procs = list(self._all)
            self._all.clear()
        for p in procs:
            p.kill()

    def pids(self) -> list[int]:
        with self._lock:
            return [p.pid for p in self._all]

    # ------------------------------------------------------------ jobs

    async def run(self, method: str, *args, client: str = "", timeout: Optional[float] = None) -> Answer:
        """Run one job in a worker, under the time limit, the memory cap and the client's share."""
        timeout = self.cfg.timeout if timeout is None else timeout
        if not client:
            return await self._run_in_worker(method, args, timeout, time.monotonic() + timeout)
        deadline = time.monotonic() + timeout
        share = self._shares.setdefault(client, [asyncio.Semaphore(max(1, self.cfg.per_client)), 0])
        share[1] += 1
        try:
            try:
                await asyncio.wait_for(share[0].acquire(), timeout)
            except asyncio.TimeoutError:
                return Answer.text(503, f"this client's other {self.cfg.per_client} request(s) kept "
                                        f"running for {timeout:g} s; try again later")
            try:
                return await self._run_in_worker(method, args, timeout, deadline)
            finally:
                share[0].release()
        finally:
            share[1] -= 1
            if not share[1]:
                self._shares.pop(client, None)

    async def _run_in_worker(self, method: str, args: tuple, timeout: float, deadline: float) -> Answer:
        try:
            p = await asyncio.wait_for(self._idle.get(), max(0.01, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            return Answer.text(503, f"all {self.cfg.workers} query workers stayed busy for "
                                    f"{timeout:g} s; try again later")
        answer, healthy = await anyio.to_thread.run_sync(self._exchange, p, method, args, timeout)
        if method == "update" and answer.status < 300:
            self.generation += 1
        if healthy:
            self._idle.put_nowait(p)
        else:
            self._replace(p)
        return answer

    def _exchange(self, p: _Proc, method: str, args: tuple, timeout: float) -> tuple[Answer, bool]:
        """Send a job and wait for its answer, watching time and memory. (answer, worker usable)."""
        cap = self.cfg.max_query_memory
        start = time.monotonic()
        try:
            p.conn.send((method, args, self.generation))
            while not p.conn.poll(POLL_SECONDS):
                elapsed = time.monotonic() - start
                if not p.process.is_alive():
                    return Answer.text(500, "the query worker died"), False
                if elapsed > timeout:
                    return Answer.text(503, f"the query exceeded the {timeout:g} s time limit"), False
                if cap and resident_bytes(p.pid) > cap:
                    return Answer.text(503, f"the query exceeded the memory cap of "
                                            f"{cap // 2**20} MB and was stopped"), False
                if elapsed > RENICE_AFTER and not p.lowered:
                    p.lowered = _set_priority(p.pid, LOW_PRIORITY)
            answer = p.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            return Answer.text(500, "the query worker died"), False
        if p.lowered:
            # Back to normal priority for the next job; where that is not permitted (an
            # unprivileged process may only lower its priority), the worker is replaced.
            if not _set_priority(p.pid, 0):
                return answer, False
            p.lowered = False
        return answer, True


def _set_priority(pid: int, value: int) -> bool:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, value)
        return True
    except (OSError, AttributeError):
        return False
