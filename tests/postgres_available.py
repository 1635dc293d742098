"""Exit 0 if PostgreSQL answers at the URL; otherwise say so clearly and exit 3 (skip the
PostgreSQL pass) on a laptop, or 1 (fail) under CI=true, where PostgreSQL is required."""
import os
import sys

import psycopg


def main(url: str) -> int:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if os.environ.get("CI", "").lower() == "true":
            print(f"FAIL: PostgreSQL is required in CI but is not reachable at {url}: {reason}", file=sys.stderr)
            return 1
        print(f"SKIPPED the PostgreSQL pass: no PostgreSQL at {url} ({reason}). "
              "Set PG_TEST_URL to point at one; in CI this is a failure.", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
