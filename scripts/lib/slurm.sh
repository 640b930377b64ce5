# The Slurm cluster of the tests: one node on loopback, from Debian's `slurm-wlm` and `munge`.
# Source it from the repository root (after provision.sh) and call start_slurm once; the daemons stop and their
# folder is removed when the sourcing shell exits.
#
# start_slurm installs `slurm-wlm` and `munge` when they are missing, generates a munge key, writes a slurm.conf for
# one node (this host, CPUs=2, RealMemory from /proc/meminfo; proctrack/linuxproc, task/none, no cgroups, no
# accounting database) with its state, spool, sockets and logs in a temporary folder, starts munged, slurmctld and
# slurmd as the current user on free loopback ports, waits (at most 60 s) until `sinfo` shows the node idle, and
# exports:
#   SLURM_CONF       the cluster's slurm.conf, which sbatch, squeue, scontrol and scancel read
#   SDC_TEST_SLURM   1
# Calling it again once the cluster runs does nothing. There is no slurmdbd, so `sacct` has no records: finished jobs
# stay visible to `scontrol show job` for MinJobAge (an hour here).

_slurm_folder=""

# Stops the daemons start_slurm started (by the process ids in their pid files) and removes their folder.
stop_slurm() {
  [ -n "$_slurm_folder" ] || return 0
  local name pid
  for name in slurmd slurmctld munged; do
    pid=$(cat "$_slurm_folder/$name.pid" 2>/dev/null || true)
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  done
  for name in slurmd slurmctld munged; do
    pid=$(cat "$_slurm_folder/$name.pid" 2>/dev/null || true)
    [ -z "$pid" ] || timeout 30 tail --pid="$pid" -f /dev/null 2>/dev/null || true
  done
  rm -rf "$_slurm_folder"
  _slurm_folder=""
}

# Prints a daemon's log and fails.
_slurm_failed() {
  echo "$1; its log ($2):" >&2
  cat "$2" >&2 2>/dev/null || true
  return 1
}

start_slurm() {
  [ -z "$_slurm_folder" ] || return 0
  ensure_debian_packages slurm-wlm munge
  _slurm_folder=$(mktemp -d /tmp/sdc-slurm.XXXXXX)
  chmod 0755 "$_slurm_folder"
  local previous
  previous=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  trap "stop_slurm; ${previous}" EXIT

  local folder=$_slurm_folder user node memory ports
  user=$(id -un)
  node=$(hostname -s)
  memory=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
  mkdir -p "$folder/munge" "$folder/state" "$folder/spool"
  chmod 0700 "$folder/munge"
  mungekey --create --keyfile="$folder/munge/munge.key" >/dev/null
  chmod 0600 "$folder/munge/munge.key"
  munged --socket="$folder/munge/munge.socket" --key-file="$folder/munge/munge.key" --pid-file="$folder/munged.pid" \
    --log-file="$folder/munged.log" --seed-file="$folder/munge/munge.seed" --force \
    || _slurm_failed "munged did not start" "$folder/munged.log" || return 1

  # Two free loopback ports, for slurmctld and slurmd.
  ports=$(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
  set -- $ports
  cat >"$folder/slurm.conf" <<EOF
ClusterName=sdctest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$1
SlurmdPort=$2
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$folder/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$folder/state
SlurmdSpoolDir=$folder/spool
SlurmctldPidFile=$folder/slurmctld.pid
SlurmdPidFile=$folder/slurmd.pid
SlurmctldLogFile=$folder/slurmctld.log
SlurmdLogFile=$folder/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=3600
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$folder/slurm.conf
  slurmctld -f "$SLURM_CONF" || _slurm_failed "slurmctld did not start" "$folder/slurmctld.log" || return 1
  slurmd -f "$SLURM_CONF" || _slurm_failed "slurmd did not start" "$folder/slurmd.log" || return 1

  local attempt state=""
  for attempt in $(seq 1 600); do
    state=$(sinfo --noheader --Node --format=%t 2>/dev/null | head -n 1 || true)
    [ "$state" = idle ] && break
    sleep 0.1
  done
  if [ "$state" != idle ]; then
    echo "the Slurm node is not idle after 60 s (state: ${state:-none})" >&2
    _slurm_failed "slurmctld" "$folder/slurmctld.log"
    _slurm_failed "slurmd" "$folder/slurmd.log"
    return 1
  fi
  export SDC_TEST_SLURM=1
  echo "== slurm: $(sinfo --version), node $node idle, SLURM_CONF=$SLURM_CONF"
}
