#!/usr/bin/env bash
# The main job: sets up this checkout (scripts/setup.sh), starts havipd in the background and creates the
# seed example through the CLI (VPC 10.0.0.0/16, subnet 10.0.1.0/24, vm-A, vm-B, vm-C, HAVIP 10.0.1.50 with
# an EIP), then prints what exists and what to try next. As root, havipd runs with the Linux lab
# (--lab-dir data/lab: the fabric in its own network namespace) and `havip lab up seed-example` attaches
# the instances as namespaces with real keepalived, leaving a working lab and the failover commands; not
# as root, the example exists in the API only. Safe to run again: it reuses a running havipd, the lab and
# the example; after a reboot it brings them back (havipd makes the lab's fabric again, `havip lab up` its
# instances on their recorded VNIs and every lab process that is not running). Environment: HAVIP_DATA_DIR
# (default ./data), HAVIP_LISTEN (127.0.0.1:7480), HAVIP_LAB_DIR (<data dir>/lab), HAVIP_LAB_PREFIX (hvl-).
# Stop havipd with: kill "$(cat data/havipd.pid)"; remove the lab with: npx havip lab down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh

export HAVIP_DATA_DIR="${HAVIP_DATA_DIR:-$PWD/data}"
listen="${HAVIP_LISTEN:-127.0.0.1:7480}"
export HAVIP_API="http://$listen"
mkdir -p "$HAVIP_DATA_DIR"
pidfile="$HAVIP_DATA_DIR/havipd.pid"
log="$HAVIP_DATA_DIR/havipd.log"
havip() { node packages/cli/bin/havip.js "$@"; }
export HAVIP_LAB_DIR="${HAVIP_LAB_DIR:-$HAVIP_DATA_DIR/lab}"
# The lab's namespace prefix (havipd's --lab-prefix; `havip lab down` sweeps it); default hvl-.
export HAVIP_LAB_PREFIX="${HAVIP_LAB_PREFIX:-hvl-}"
lab_args=()
if [ "$(id -u)" = 0 ]; then
  lab_args=(--lab-dir "$HAVIP_LAB_DIR" --lab-prefix "$HAVIP_LAB_PREFIX")
else
  echo "run: not root: no Linux lab (network namespaces, VXLAN and keepalived need root); the seed example will exist in the API only" >&2
fi

healthy() { node -e "fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$HAVIP_API/v1/health"; }

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && healthy; }
# As root the lab's record must exist (havipd makes it with --lab-dir); a havipd started without it is restarted.
if running && [ "${#lab_args[@]}" -gt 0 ] && [ ! -f "$HAVIP_LAB_DIR/lab-state.json" ]; then
  echo "run: havipd (pid $(cat "$pidfile")) runs without the lab: restarting it with --lab-dir $HAVIP_LAB_DIR"
  kill "$(cat "$pidfile")"
  for _ in $(seq 1 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
fi
if running; then
  echo "run: havipd already running (pid $(cat "$pidfile")) at $HAVIP_API"
else
  echo "run: starting havipd at $HAVIP_API (data in $HAVIP_DATA_DIR, log in $log)"
  nohup node packages/daemon/bin/havipd.js --listen "$listen" --data-dir "$HAVIP_DATA_DIR" --log-format json \
    "${lab_args[@]}" >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 200); do healthy && break; sleep 0.1; done
  if ! healthy; then
    echo "run: havipd did not become healthy; the last lines of its log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
fi

operator_token="${HAVIP_ADMIN_TOKEN:-$(cat "$HAVIP_DATA_DIR/admin-token")}"
demo_token_file="$HAVIP_DATA_DIR/demo-project-token"
if [ ! -s "$demo_token_file" ]; then
  echo "run: creating the seed example"
  HAVIP_TOKEN="$operator_token" havip --json project create demo |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))' >"$demo_token_file.tmp"
  chmod 600 "$demo_token_file.tmp" && mv "$demo_token_file.tmp" "$demo_token_file"
  HAVIP_TOKEN="$operator_token" havip pool create --region region-1 --cidr 198.51.100.0/24 >/dev/null
  export HAVIP_TOKEN="$(cat "$demo_token_file")"
  havip vpc create --name demo-vpc --cidr 10.0.0.0/16 --region region-1 >/dev/null
  havip subnet create --vpc demo-vpc --name demo-subnet --cidr 10.0.1.0/24 --zone zone-a >/dev/null
  havip instance create --name vm-A --subnet demo-subnet >/dev/null
  havip instance create --name vm-B --subnet demo-subnet >/dev/null
  havip instance create --name vm-C --subnet demo-subnet >/dev/null
  havip havip create --subnet demo-subnet --ip 10.0.1.50 --name demo-vip --member vm-A --member vm-B >/dev/null
  eip="$(havip --json eip allocate --region region-1 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).publicIp))')"
  havip eip associate "$eip" --havip demo-vip >/dev/null
fi
export HAVIP_TOKEN="$(cat "$demo_token_file")"

if [ "${#lab_args[@]}" -gt 0 ]; then
  echo "run: bringing up the seed example in the Linux lab (namespaces, keepalived)"
  HAVIP_TOKEN="$operator_token" havip lab up seed-example
  cat <<EOT

havipd is running at $HAVIP_API (pid $(cat "$pidfile")) with the Linux lab in $HAVIP_LAB_DIR; try the commands above
(as root, in this repository) after: source scripts/node-env.sh; export HAVIP_API=$HAVIP_API HAVIP_DATA_DIR=$HAVIP_DATA_DIR
Web console: $HAVIP_API/ (sign in with the token in $demo_token_file)
Stop havipd with: kill \$(cat $pidfile); remove the lab with: npx havip lab down
EOT
  exit 0
fi

echo
havip instance list
echo
havip havip list
cat <<EOT

havipd is running at $HAVIP_API (pid $(cat "$pidfile")); the seed example exists in project "demo".
Try it (in this repository, after: source scripts/node-env.sh):
  export HAVIP_API=$HAVIP_API HAVIP_TOKEN=\$(cat $demo_token_file)
  npx havip havip show demo-vip
  HAVIP_TOKEN=\$(cat $HAVIP_DATA_DIR/admin-token) npx havip observe demo-vip vm-A   # the fabric's report: vm-A holds it
  HAVIP_TOKEN=\$(cat $HAVIP_DATA_DIR/admin-token) npx havip observe demo-vip vm-B   # a failover: generation 2
  npx havip havip history demo-vip
  npx havip events --follow
Web console: $HAVIP_API/ (sign in with the token in $demo_token_file)
Stop it with: kill \$(cat $pidfile)
EOT
