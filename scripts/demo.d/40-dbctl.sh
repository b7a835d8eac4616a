# shellcheck shell=bash
# dbctl: a local PostgreSQL, a spec provisioned through terraform, users with access profiles,
# who-can-do-what, and a password rotation.
demo_section "dbctl: databases through Terraform, and access management"
. "$BCL_ROOT/scripts/lib/dbctl.sh"
ensure_dbctl_test_deps

demo_say "Starting a throwaway PostgreSQL on 127.0.0.1 (the test harness: initdb + pg_ctl on a free port)."
node --input-type=module -e '
  import {startPostgres, terraformKit} from "'"$BCL_ROOT"'/packages/testkit/dist/index.js";
  import {writeFileSync} from "node:fs";
  const pg = await startPostgres();
  const kit = await terraformKit();
  writeFileSync(process.argv[1], `PG_PORT=${pg.port}\nDEMO_PG_PASSWORD=${pg.password}\nTF_CLI_CONFIG_FILE=${kit.cliConfigFile}\nPG_BIN=${pg.binDir}\n`, {mode: 0o600});
  process.on("SIGTERM", async () => { await pg.stop(); process.exit(0); });
  setInterval(() => {}, 1 << 30);
' "$DEMO_DIR/dbctl-server.env" &
pg_pid=$!
printf '#!/bin/sh\nkill %s 2>/dev/null; sleep 1\n' "$pg_pid" >"$DEMO_DIR/cleanup.d/40-dbctl-postgres" && chmod +x "$DEMO_DIR/cleanup.d/40-dbctl-postgres"
for _ in $(seq 1 600); do [ -s "$DEMO_DIR/dbctl-server.env" ] && break; sleep 0.1; done
# shellcheck source=/dev/null
. "$DEMO_DIR/dbctl-server.env"
# The administrator's password is read from an environment variable named in the profile, never from a flag.
export DEMO_PG_PASSWORD
# The Terraform registry is not reachable here: the CLI configuration installs cyrilgdn/postgresql
# from a local mirror (the testkit's build of it). Elsewhere terraform gets it from the registry.
export TF_CLI_CONFIG_FILE

demo_say "A connection profile in the user configuration: host, port, admin user, and where the password comes from."
demo_run bcl config set dbctl.connections.local "{engine: postgres, host: 127.0.0.1, port: $PG_PORT, user: postgres, passwordEnv: DEMO_PG_PASSWORD, tls: disable}"
demo_run bcl config set dbctl.defaultConnection local
demo_run dbctl config

mkdir -p "$DEMO_DIR/dbctl" && cd "$DEMO_DIR/dbctl"
cat >db.yaml <<'EOF'
name: shop
engine: postgres
provider: local
connection: local
deletionProtection: false
databases:
  - name: shop
    schemas: [public, reporting]
access:
  - {role: app, profile: owner, databases: [shop]}
  - {role: analyst, profile: readonly, databases: [shop], schemas: [reporting]}
EOF
demo_say "The spec: one database with two schemas, an owner role and a read-only analyst."
cat db.yaml >&2
demo_run dbctl plan -f db.yaml
demo_run dbctl provision -f db.yaml --yes
demo_say "A second plan finds nothing to do: grants are read back from the catalogs and match."
demo_run dbctl plan -f db.yaml
demo_say "Removing a role from the spec is a destroy: refused (exit 6) without --allow-destroy."
sed '/analyst/d' db.yaml >db-without-analyst.yaml
demo_expect_fail 6 dbctl provision -f db-without-analyst.yaml --yes

demo_say "Direct administration: a reporting user with the readonly profile; the password goes to a 0600 file."
demo_run dbctl user create reporting --profile readonly --database shop --password-file reporting.pw
demo_run dbctl user create loader --profile readwrite --database shop --schema reporting --password-file loader.pw
ls -l reporting.pw >&2
# psql_as <user> <password file> <sql>: psql as that user, the password passed by environment (never shown).
psql_as() { PGPASSWORD="$(cat "$2")" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$1" -d shop -Atqc "$3"; }
demo_say "Tables created later are readable by readonly users (default privileges); writing is not allowed."
PGPASSWORD="$DEMO_PG_PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d shop -qc 'CREATE TABLE public.orders (id int); INSERT INTO public.orders VALUES (1);'
demo_run psql_as reporting reporting.pw 'SELECT count(*) FROM public.orders'
demo_expect_fail 1 psql_as reporting reporting.pw 'INSERT INTO public.orders VALUES (2)'
demo_say "Who can do what on shop, read from the catalogs."
demo_run dbctl access list --database shop
demo_say "Rotating a password: the old one stops working at once."
cp reporting.pw reporting.old.pw
demo_run dbctl password rotate reporting --password-file reporting.pw
demo_expect_fail 2 psql_as reporting reporting.old.pw 'SELECT 1'
demo_run psql_as reporting reporting.pw 'SELECT current_user'
demo_say "Every administrative operation is in the audit log (never a password)."
demo_run dbctl audit list --limit 6
cd "$DEMO_DIR"
