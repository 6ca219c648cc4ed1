#!/usr/bin/env bash
# local_cluster.sh — single-node Slurm "cluster" on localhost, no systemd, no cgroups.
#
#   local_cluster.sh start            install slurm-wlm+munge if missing, start munged,
#                                     slurmctld, slurmd; wait until the node is idle and
#                                     a trivial sbatch job completes. Idempotent.
#   local_cluster.sh stop             kill the daemons, wipe Slurm state (next start is fresh).
#                                     Never fails when nothing is running.
#   local_cluster.sh status           daemons, controller ping, node state.
#   local_cluster.sh wait JOBID [SEC] block until every task of JOBID is finished.
#                                     exit 0 = all COMPLETED, 1 = some task FAILED/CANCELLED/
#                                     TIMEOUT/..., 2 = timeout (default 600 s), 3 = unknown job.
#
# Must run as root. Tested with Debian 12 (bookworm) slurm-wlm 22.05.8, munge 0.5.15.
#
# Waiting for a job without accounting (sacct needs slurmdbd, which we do not run):
#   `scontrol -o show job ID` keeps finished jobs for MinJobAge seconds (set to 3600 below),
#   one line per array task, with JobState=PENDING|RUNNING|COMPLETING|COMPLETED|FAILED|
#   CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|... and ExitCode=rc:signal. The job is done
#   when every line has a terminal state; it succeeded iff all are COMPLETED. That is what
#   `local_cluster.sh wait ID` does. Alternatives: `sbatch --wait ...` (blocks, exit code =
#   job exit code) or `squeue -h -t all -j ID -o '%i %T'`. DependencyParameters=
#   kill_invalid_depend makes jobs whose afterok dependency failed get CANCELLED instead of
#   pending forever (DependencyNeverSatisfied), so waiting on them terminates.
#
# Environment knobs (optional):
#   LOCAL_SLURM_BASE      state/log/pid dir (default /var/spool/slurm-local)
#   LOCAL_SLURM_CPUS      CPUs of the node (default: nproc)
#   LOCAL_SLURM_NODENAME  node name (default: hostname -s, falls back to localhost)
#   LOCAL_SLURM_TIMEOUT   seconds to wait for the node to become idle (default 60)
#   LOCAL_SLURM_NO_INSTALL=1  never call apt-get

set -Eeuo pipefail

BASE=${LOCAL_SLURM_BASE:-/var/spool/slurm-local}
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
MARK="# managed-by: local_cluster.sh"
STATE_DIR=$BASE/ctld        # StateSaveLocation
SPOOL_DIR=$BASE/d           # SlurmdSpoolDir
LOG_DIR=$BASE/log
RUN_DIR=$BASE/run
CTLD_PID=$RUN_DIR/slurmctld.pid
SLURMD_PID=$RUN_DIR/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
MUNGE_SOCK=/run/munge/munge.socket.2
MUNGE_LOG=/var/log/munge/munged.log
TIMEOUT=${LOCAL_SLURM_TIMEOUT:-60}
CLUSTER=localcluster
PARTITION=debug

# Daemons and clients read /etc/slurm/slurm.conf by default; pin it for our own calls so a
# stray SLURM_CONF from the caller's environment cannot redirect them.
if [[ -n ${SLURM_CONF:-} && ${SLURM_CONF} != "$CONF" ]]; then
  echo "[slurm] note: ignoring SLURM_CONF=$SLURM_CONF, using $CONF" >&2
fi
export SLURM_CONF=$CONF

say() { echo "[slurm] $*"; }
die() { echo "[slurm] ERROR: $*" >&2; exit 1; }
tail_log() {  # tail_log FILE...
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    echo "----- last lines of $f -----" >&2
    tail -n 25 "$f" >&2 || true
  done
}
fail() {  # fail MSG LOG...
  local msg=$1; shift
  echo "[slurm] ERROR: $msg" >&2
  tail_log "$@"
  exit 1
}

node_name() {
  local n=${LOCAL_SLURM_NODENAME:-}
  if [[ -z $n ]]; then
    n=$(hostname -s 2>/dev/null || true)
    # must be a plain name usable as NodeName / SlurmctldHost
    [[ $n =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] || n=localhost
  fi
  echo "$n"
}
NODE=$(node_name)

# Running = exists and is not a zombie. PID 1 in containers often reaps late, so a killed
# daemon can linger as a zombie (same comm, kill -0 succeeds) for seconds.
proc_running() {  # proc_running PID
  local st
  st=$(cat /proc/"$1"/stat 2>/dev/null) || return 1
  st=${st##*) }
  [[ ${st%% *} != [ZX] ]]
}
any_running() {  # any_running EXE-NAME  (ignores zombies)
  local p
  for p in $(pgrep -x "$1" 2>/dev/null || true); do proc_running "$p" && return 0; done
  return 1
}
pid_alive() {  # pid_alive PIDFILE EXE-NAME
  local p
  [[ -s $1 ]] || return 1
  p=$(cat "$1" 2>/dev/null) || return 1
  [[ $p =~ ^[0-9]+$ ]] || return 1
  [[ $(cat /proc/"$p"/comm 2>/dev/null) == "$2" ]] && proc_running "$p"
}

# ---------------------------------------------------------------- install
install_pkgs() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
     command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return 0
  fi
  [[ ${LOCAL_SLURM_NO_INSTALL:-0} == 1 ]] && die "slurm/munge not installed and LOCAL_SLURM_NO_INSTALL=1"
  command -v apt-get >/dev/null || die "apt-get not found; install slurm-wlm and munge manually"
  local t0=$SECONDS created_policy=0
  say "installing slurm-wlm munge via apt-get ..."
  # keep the packages' maintainer scripts from starting services (no init system here)
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  local apt=(apt-get -y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef
             -o Dpkg::Options::=--force-confold)
  local rc=0
  if ! apt-cache show slurm-wlm >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >/dev/null || rc=$?
  fi
  if ((rc == 0)); then
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends slurm-wlm munge \
      >"/tmp/local_cluster.apt.log" 2>&1 || {
      # stale package lists are the usual cause: refresh once and retry
      DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends slurm-wlm munge \
        >>"/tmp/local_cluster.apt.log" 2>&1
    } || rc=$?
  fi
  ((created_policy)) && rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || fail "apt-get install slurm-wlm munge failed (rc=$rc)" /tmp/local_cluster.apt.log
  say "installed in $((SECONDS - t0)) s"
}

slurm_version() {  # prints e.g. 22.05.8
  slurmd -V 2>/dev/null | awk '{print $2}'
}
ver_ge() {  # ver_ge A B  -> A >= B
  [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]
}

# ---------------------------------------------------------------- munge
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  getent passwd munge >/dev/null || die "user 'munge' missing (munge package broken?)"
  install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
  install -d -o munge -g munge -m 0755 /run/munge
  if [[ ! -s /etc/munge/munge.key ]]; then
    say "generating /etc/munge/munge.key"
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile=/etc/munge/munge.key --force >/dev/null 2>&1 ||
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key

  if munge_ok; then say "munged already running"; return 0; fi
  # a dead/stale munged: clear it
  if pid_alive "$MUNGE_PID" munged; then kill "$(cat "$MUNGE_PID")" 2>/dev/null || true; sleep 1; fi
  rm -f "$MUNGE_PID" "$MUNGE_SOCK" "$MUNGE_SOCK.lock"

  say "starting munged"
  runuser -u munge -- /usr/sbin/munged </dev/null >>/tmp/local_cluster.munged.out 2>&1 ||
    # munged is strict about path permissions (e.g. group/world-writable parents in
    # containers); --force downgrades those checks to warnings
    runuser -u munge -- /usr/sbin/munged --force </dev/null >>/tmp/local_cluster.munged.out 2>&1 ||
    fail "munged failed to start" /tmp/local_cluster.munged.out "$MUNGE_LOG"
  local i
  for ((i = 0; i < 50; i++)); do munge_ok && return 0; sleep 0.2; done
  fail "munged started but munge -n | unmunge fails" /tmp/local_cluster.munged.out "$MUNGE_LOG"
}

# ---------------------------------------------------------------- config
write_conf() {
  local ver=$1 cpus mem select dep
  cpus=${LOCAL_SLURM_CPUS:-$(nproc)}
  # RealMemory as slurmd itself detects it (no "Low RealMemory" drain); fallback /proc/meminfo
  mem=$(slurmd -C 2>/dev/null | grep -o 'RealMemory=[0-9]*' | cut -d= -f2 || true)
  [[ $mem =~ ^[0-9]+$ ]] || mem=$(awk '/^MemTotal:/{print int($2/1024)}' /proc/meminfo)
  mem=$((mem * 95 / 100)); ((mem > 0)) || mem=1
  # version quirks
  if ver_ge "$ver" 19.05; then select=select/cons_tres; else select=select/cons_res; fi
  if ver_ge "$ver" 20.02; then dep="DependencyParameters=kill_invalid_depend"
  else dep="SchedulerParameters=kill_invalid_depend"; fi

  mkdir -p "$CONF_DIR"
  if [[ -e $CONF ]] && ! grep -qF "$MARK" "$CONF"; then
    local bak="$CONF.bak-local_cluster.$(date +%Y%m%d%H%M%S)"
    cp -a "$CONF" "$bak"
    say "backed up existing $CONF to $bak"
  fi
  local tmp
  tmp=$(mktemp "$CONF_DIR/.slurm.conf.XXXXXX")
  cat >"$tmp" <<EOF
$MARK (slurm $ver) — regenerated on every start; edits are lost.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
# no mail on this box (silences 'Configured MailProg is invalid')
MailProg=/bin/true
# no cgroups needed anywhere
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=$select
SelectTypeParameters=CR_CPU
$dep
ReturnToService=2
SlurmdParameters=config_overrides
# keep finished jobs queryable via scontrol/squeue -t all for an hour (no accounting)
MinJobAge=3600
KillWait=5
InactiveLimit=0
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  chmod 0644 "$tmp"
  mv -f "$tmp" "$CONF"
  say "wrote $CONF (node $NODE, CPUs=$cpus, RealMemory=$mem, $select)"
}

# ---------------------------------------------------------------- daemons
ctld_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
node_state() { sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n1; }
node_ready() {
  case $(node_state) in
    idle|mixed|allocated|completing) return 0 ;;
    *) return 1 ;;
  esac
}

start_daemons() {
  local i
  mkdir -p "$STATE_DIR" "$SPOOL_DIR" "$LOG_DIR" "$RUN_DIR"
  chmod 0755 "$BASE" "$STATE_DIR" "$SPOOL_DIR" "$LOG_DIR" "$RUN_DIR"
  : >"$LOG_DIR/slurmctld.log"; : >"$LOG_DIR/slurmd.log"

  say "starting slurmctld"
  # daemon mode: forks and returns; stdio detached so callers' pipes are not held open
  slurmctld </dev/null >>"$LOG_DIR/slurmctld.out" 2>&1 ||
    fail "slurmctld failed to start" "$LOG_DIR/slurmctld.out" "$LOG_DIR/slurmctld.log"
  for ((i = 0; i < 100; i++)); do ctld_up && break; sleep 0.2; done
  ctld_up || fail "slurmctld not answering 'scontrol ping' after 20 s" \
    "$LOG_DIR/slurmctld.out" "$LOG_DIR/slurmctld.log"

  say "starting slurmd (node $NODE)"
  slurmd -N "$NODE" </dev/null >>"$LOG_DIR/slurmd.out" 2>&1 ||
    fail "slurmd failed to start" "$LOG_DIR/slurmd.out" "$LOG_DIR/slurmd.log"
}

wait_node() {
  local deadline=$((SECONDS + TIMEOUT)) resumed=0 st
  say "waiting up to ${TIMEOUT}s for node $NODE to become idle"
  while :; do
    node_ready && { say "node $NODE is $(node_state)"; return 0; }
    st=$(node_state)
    if ! pid_alive "$SLURMD_PID" slurmd && ((SECONDS > deadline - TIMEOUT + 3)); then
      fail "slurmd died (node state '${st:-?}')" "$LOG_DIR/slurmd.out" "$LOG_DIR/slurmd.log"
    fi
    # a node left down/drained (e.g. by an earlier incarnation) — resume once
    if ((!resumed)) && [[ $st =~ ^(down|drain|drained|draining)$ ]]; then
      scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
      resumed=1
    fi
    if ((SECONDS >= deadline)); then
      fail "node $NODE not idle after ${TIMEOUT}s (state '${st:-unknown}'; $(scontrol show node "$NODE" 2>/dev/null | grep -o 'Reason=.*' || true))" \
        "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- wait helper
TERMINAL='COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE|SPECIAL_EXIT|REVOKED'
cmd_wait() {  # cmd_wait JOBID [TIMEOUT_S]
  local id=${1:?usage: wait JOBID [TIMEOUT_S]} timeout=${2:-600} out states deadline
  deadline=$((SECONDS + timeout))
  while :; do
    if ! out=$(scontrol -o show job "$id" 2>&1); then
      echo "[slurm] job $id unknown: $out" >&2; return 3
    fi
    states=$(grep -o 'JobState=[A-Z_]*' <<<"$out" | cut -d= -f2 | sort -u)
    [[ -n $states ]] || { echo "[slurm] job $id: no JobState in output" >&2; return 3; }
    if ! grep -qvE "^($TERMINAL)$" <<<"$states"; then
      if [[ $states == COMPLETED ]]; then
        echo "[slurm] job $id COMPLETED"; return 0
      fi
      echo "[slurm] job $id finished unsuccessfully: $(xargs <<<"$states")" \
           "(exit codes: $(grep -o ' ExitCode=[0-9:]*' <<<"$out" | cut -d= -f2 | sort -u | xargs))" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "[slurm] job $id still $(xargs <<<"$states") after ${timeout}s" >&2; return 2
    fi
    sleep 1
  done
}

smoke_test() {  # smoke_test [soft]  (soft: return 1 instead of exiting)
  local id
  if ! id=$(sbatch --parsable -J local_cluster_smoke -o /dev/null -e /dev/null --wrap true 2>&1); then
    [[ ${1:-} == soft ]] && return 1
    fail "sbatch failed: $id" "$LOG_DIR/slurmctld.log"
  fi
  id=${id%%;*}
  if [[ ${1:-} == soft ]]; then
    cmd_wait "$id" 15 >/dev/null 2>&1 || { scancel "$id" 2>/dev/null || true; return 1; }
    say "sbatch works (smoke job $id completed)"; return 0
  fi
  cmd_wait "$id" 30 >/dev/null ||
    fail "smoke job $id did not complete: $(scontrol -o show job "$id" 2>&1 | grep -oE 'JobState=[A-Z_]+|Reason=[^ ]+' | tr '\n' ' ')" \
      "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log"
  say "sbatch works (smoke job $id completed)"
}

# ---------------------------------------------------------------- commands
kill_daemon() {  # kill_daemon NAME PIDFILE
  local name=$1 pf=$2 pids="" p i
  if pid_alive "$pf" "$name"; then pids=$(cat "$pf"); fi
  # also catch instances whose pid file is gone (exact process-name match only)
  for p in $(pgrep -x "$name" 2>/dev/null || true); do
    proc_running "$p" || continue
    [[ " $pids " == *" $p "* ]] || pids="$pids $p"
  done
  pids=$(echo $pids)
  [[ -n $pids ]] || { rm -f "$pf"; return 0; }
  say "stopping $name (pid $pids)"
  kill -TERM $pids 2>/dev/null || true
  local alive=""
  for ((i = 0; i < 50; i++)); do
    alive=""
    for p in $pids; do proc_running "$p" && alive="$alive $p"; done
    [[ -n $alive ]] || break
    sleep 0.2
  done
  [[ -z $alive ]] || kill -KILL $alive 2>/dev/null || true
  rm -f "$pf"
}

cmd_stop() {
  [[ $EUID -eq 0 ]] || die "must run as root"
  kill_daemon slurmd "$SLURMD_PID"
  kill_daemon slurmstepd /nonexistent
  kill_daemon slurmctld "$CTLD_PID"
  kill_daemon munged "$MUNGE_PID"
  rm -f "$MUNGE_SOCK" "$MUNGE_SOCK.lock"
  rm -rf "$STATE_DIR" "$SPOOL_DIR" "$RUN_DIR"
  say "stopped; state cleaned (logs kept in $LOG_DIR)"
}

cmd_start() {
  [[ $EUID -eq 0 ]] || die "must run as root"
  local t0=$SECONDS ver
  install_pkgs
  ver=$(slurm_version)
  [[ -n $ver ]] || die "cannot determine slurm version (slurmd -V)"
  say "slurm $ver, munge $(munged -V 2>/dev/null | awk '{print $1}' | sed 's/^munge-//')"

  # idempotence: a healthy cluster started from our config is left alone
  if [[ -f $CONF ]] && grep -qF "$MARK" "$CONF" && munge_ok &&
     pid_alive "$CTLD_PID" slurmctld && pid_alive "$SLURMD_PID" slurmd && ctld_up && node_ready &&
     scontrol show slurmd >/dev/null 2>&1; then
    say "already running (node $NODE $(node_state))"
    if smoke_test soft; then
      say "ready in $((SECONDS - t0)) s"
      return 0
    fi
    say "running cluster failed the smoke test; restarting clean"
    kill_daemon slurmd "$SLURMD_PID"
    kill_daemon slurmctld "$CTLD_PID"
  fi
  # anything partial: clean slate
  if any_running slurmctld || any_running slurmd; then
    say "found partial/stale slurm daemons; restarting clean"
    kill_daemon slurmd "$SLURMD_PID"
    kill_daemon slurmstepd /nonexistent
    kill_daemon slurmctld "$CTLD_PID"
  fi
  rm -rf "$STATE_DIR" "$SPOOL_DIR" "$RUN_DIR"

  start_munge
  write_conf "$ver"
  start_daemons
  wait_node
  smoke_test
  say "ready in $((SECONDS - t0)) s (partition $PARTITION, node $NODE)"
}

cmd_status() {
  local rc=0
  pid_alive "$MUNGE_PID" munged && echo "munged:    running (pid $(cat "$MUNGE_PID"))" || { echo "munged:    not running"; rc=1; }
  pid_alive "$CTLD_PID" slurmctld && echo "slurmctld: running (pid $(cat "$CTLD_PID"))" || { echo "slurmctld: not running"; rc=1; }
  pid_alive "$SLURMD_PID" slurmd && echo "slurmd:    running (pid $(cat "$SLURMD_PID"))" || { echo "slurmd:    not running"; rc=1; }
  if command -v scontrol >/dev/null && ctld_up; then
    echo "node:      $NODE $(node_state)"
  else
    echo "controller: not answering"; rc=1
  fi
  return $rc
}

case ${1:-} in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) cmd_status ;;
  wait)   shift; cmd_wait "$@" ;;
  *) echo "usage: $0 start|stop|status|wait JOBID [TIMEOUT_S]" >&2; exit 2 ;;
esac
