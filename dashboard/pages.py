"""The dashboard's pages, in menu order (plain Python, so tests can list them without Streamlit).

Each entry is (file under dashboard/, title, url_path); the first page is the default one: it
answers at "/" and at its own url_path.
"""

PAGES = [
    ("views/overview.py", "Overview", "overview"),
    ("views/speedups.py", "Speedups", "speedups"),
    ("views/performance.py", "Bandwidth and threads", "performance"),
    ("views/convergence.py", "Convergence", "convergence"),
    ("views/history.py", "History and regressions", "history"),
    ("views/machines.py", "Machines", "machines"),
    ("views/peers.py", "Peers", "peers"),
    ("views/reproduction.py", "Reproduction", "reproduction"),
    ("views/sweeps.py", "Sweeps", "sweeps"),
]

HOME = "home"
"""url_path of the hidden page that serves the first page at "/" (app.py)."""
