"""`make api-fuzz`: Schemathesis against the API's own OpenAPI document, as a coordinator and
as a fitter, on a throwaway SQLite database holding the demo data.

The app is served in this process on a free local port for the length of the run; each role
gets its own API token and one Schemathesis run with a fixed seed and a bounded number of
examples per operation. A 5xx, a response that breaks the document (status, media type or
schema), or input the document forbids being accepted, fails the run.

    python -m tests.fuzz.api_fuzz [--examples N] [--seed S] [--role coordinator|fitter]
"""
import argparse
import logging
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from inventory import create_app
from inventory.accounts import operations
from inventory.accounts.models import User
from inventory.demo import seed_demo
from inventory.extensions import db

ROLES = {"coordinator": "coordinator@demo.example", "fitter": "fitter@demo.example"}
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
])
SEED = 14
EXAMPLES = 15


def build_app(directory: Path):
    """The test config over a fresh SQLite file migrated to head and seeded with the demo."""
    app = create_app({"CONFIG_NAME": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'fuzz.sqlite3'}",
                      # Errors answer as they would in production (a logged 500), not as a traceback.
                      "PROPAGATE_EXCEPTIONS": False})
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
    return app


def token_for(app, email: str) -> str:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        _, plain = operations.create_api_token(user, name="api fuzz")
        db.session.commit()
        return plain


def fuzz(base_url: str, token: str, *, seed: int, examples: int, directory: Path) -> int:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{base_url}/api/v1/openapi.json",
        "--checks", CHECKS, "--seed", str(seed), "--max-examples", str(examples),
        "--workers", "1", "--phases", "examples,coverage,fuzzing",
        "--header", f"Authorization: Bearer {token}",
        "--suppress-health-check", "all", "--no-color",
    ]
    # In the throwaway directory: Schemathesis keeps a cache of what it found where it runs.
    return subprocess.run(command, check=False, cwd=directory).returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=EXAMPLES, help="examples per operation and phase")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--role", choices=sorted(ROLES), action="append", help="only this role (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    with tempfile.TemporaryDirectory(prefix="safehold-fuzz-") as temporary:
        directory = Path(temporary)
        app = build_app(directory)
        tokens = {role: token_for(app, ROLES[role]) for role in args.role or ROLES}
        server = make_server("127.0.0.1", 0, app, threaded=False)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base_url = f"http://127.0.0.1:{server.server_port}"
        status = 0
        try:
            for role, token in tokens.items():
                started = time.monotonic()
                print(f"== Schemathesis as the demo {role} (seed {args.seed}, {args.examples} examples)", flush=True)
                code = fuzz(base_url, token, seed=args.seed, examples=args.examples, directory=directory)
                print(f"== {role}: {'passed' if code == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s",
                      flush=True)
                status = status or code
        finally:
            server.shutdown()
    return status


if __name__ == "__main__":
    sys.exit(main())
