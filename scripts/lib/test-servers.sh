# Shared test servers for scripts/test.sh (sourced, not run).
# Each start_* exports the variables the tests read; stop_test_servers
# stops everything started here.

TEST_SERVER_DIR="$(mktemp -d /tmp/mxpulse-servers-XXXXXX)"
TEST_SERVER_PIDS=()

stop_test_servers() {
  for pid in "${TEST_SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${TEST_SERVER_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$TEST_SERVER_DIR"
}

# MariaDB on 127.0.0.1:$MXPULSE_TEST_MYSQL_PORT with a throwaway datadir,
# user mxpulse/mxpulse with all rights on databases named mxpulse_test%.
start_mariadb() {
  local dir="$TEST_SERVER_DIR/mariadb" port="${MXPULSE_TEST_MYSQL_PORT:-33306}"
  local mysqld
  mysqld=$(command -v mariadbd || command -v mysqld || true)
  if [[ -z "$mysqld" ]]; then mysqld=/usr/sbin/mariadbd; fi
  if [[ ! -x "$mysqld" ]]; then echo "test-servers: no mariadbd; MySQL tests will skip"; return 0; fi
  mkdir -p "$dir/data"
  mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" \
    --auth-root-authentication-method=normal >"$dir/install.log" 2>&1
  "$mysqld" --no-defaults --datadir="$dir/data" --socket="$dir/mysql.sock" \
    --port="$port" --bind-address=127.0.0.1 --user="$(id -un)" --skip-log-bin \
    --innodb-buffer-pool-size=32M --pid-file="$dir/mysqld.pid" >"$dir/server.log" 2>&1 &
  TEST_SERVER_PIDS+=($!)
  for _ in $(seq 1 100); do
    [[ -S "$dir/mysql.sock" ]] && mariadb --no-defaults -uroot --socket="$dir/mysql.sock" \
      -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.2
  done
  mariadb --no-defaults -uroot --socket="$dir/mysql.sock" <<'SQL'
CREATE USER IF NOT EXISTS 'mxpulse'@'127.0.0.1' IDENTIFIED BY 'mxpulse';
CREATE USER IF NOT EXISTS 'mxpulse'@'localhost' IDENTIFIED BY 'mxpulse';
GRANT ALL ON `mxpulse_test%`.* TO 'mxpulse'@'127.0.0.1';
GRANT ALL ON `mxpulse_test%`.* TO 'mxpulse'@'localhost';
SQL
  export MXPULSE_TEST_MYSQL_HOST=127.0.0.1 MXPULSE_TEST_MYSQL_PORT="$port"
  export MXPULSE_TEST_MYSQL_SOCKET="$dir/mysql.sock"
  export MXPULSE_TEST_MYSQL_USER=mxpulse MXPULSE_TEST_MYSQL_PASSWORD=mxpulse
  echo "test-servers: MariaDB on 127.0.0.1:$port"
}
