"""What an operator sets for `kg serve`: the one place its defaults are written."""
from __future__ import annotations

from dataclasses import dataclass, field

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass
class Config:
    store: str
    host: str = "127.0.0.1"
    port: int = 8000
    allow_update: bool = False          # SPARQL Update (refused: 403)
    allow_service: bool = False         # SERVICE in queries and LOAD in updates call other servers
    update_token: str = ""              # when set, an update needs `Authorization: Bearer <token>`
    timeout: float = 10.0               # seconds a query may run
    page_timeout: float = 60.0          # seconds a page may take (the graph's layout)
    max_results: int = 10_000           # rows or triples a query may return
    max_request_bytes: int = 1_000_000  # URL plus body
    max_query_memory_mb: int = 2048     # resident memory of a worker while it runs a job
    workers: int = 4                    # query worker processes
    per_client: int = 0                 # jobs one client address may run at once (0: workers - 1)
    header_timeout: float = 10.0        # seconds to send a request's headers, and its body
    keep_alive: float = 5.0             # seconds an idle connection is kept
    max_connections: int = 512          # connections and requests at once (503 beyond)
    allowed_hosts: list = field(default_factory=list)   # Host header values accepted
    forwarded_allow_ips: str = ""       # reverse proxies whose X-Forwarded-For is believed

    def __post_init__(self):
        if not self.per_client:
            self.per_client = max(1, self.workers - 1)
        if not self.allowed_hosts:
            # Bound to this machine only: a page elsewhere that renames itself to 127.0.0.1
            # (DNS rebinding) still sends its own Host, and is refused.
            if self.host in LOOPBACK_HOSTS:
                self.allowed_hosts = list(LOOPBACK_HOSTS)
            elif self.host in ("0.0.0.0", "::", ""):
                self.allowed_hosts = ["*"]      # every interface: say --allowed-host to narrow it
            else:
                self.allowed_hosts = [self.host]

    @property
    def max_query_memory(self) -> int:
        return self.max_query_memory_mb * 2**20
