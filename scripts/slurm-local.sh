#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the sweep tests and for
# trying `infoplane sweep run --executor slurm`:
#
#   scripts/slurm-local.sh start    install slurm-wlm and munge if missing, write
#                                   /etc/slurm/slurm.conf for this node (its CPUs and
#                                   memory, on the loopback interface), start munged
#                                   (as the munge user), slurmctld and slurmd, and wait
#                                   until sinfo shows the node idle
#   scripts/slurm-local.sh stop     cancel the cluster's jobs, stop the three daemons
#                                   and wait until none is left
#   scripts/slurm-local.sh status   print whether it runs (exit 0) or not (exit 1)
#
# Runs as root (or with sudo). Job accounting (sacct, slurmdbd) is not set up:
# `infoplane sweep status` does not need it. The configuration uses
# proctrack/linuxproc and task/none, which need no cgroups, so it also runs in
# containers. State and logs go to $INFOPLANE_SLURM_STATE (default
# /var/tmp/infoplane-slurm). An /etc/slurm/slurm.conf this script did not write
# is left alone (start refuses).
set -euo pipefail

state=${INFOPLANE_SLURM_STATE:-/var/tmp/infoplane-slurm}
conf=/etc/slurm/slurm.conf
marker="# Written by InfoPlane's scripts/slurm-local.sh"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

say() { echo "slurm-local: $*" >&2; }

# Waits up to $1 tenths of a second for the command after it to succeed.
wait_for() {
  local tenths=$1; shift
  for ((i = 0; i < tenths; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
  local missing=()
  for p in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

write_config() {
  if [ -f "$conf" ] && ! head -1 "$conf" | grep -qF "$marker"; then
    say "$conf exists and was not written by this script; not touching it"
    exit 1
  fi
  local node cpus memory
  node=$(hostname -s)
  cpus=$(nproc)
  # slurmd -C measures the node; keep a little memory back for the system.
  memory=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
  memory=$((memory * 95 / 100))
  $sudo mkdir -p "$state/ctld" "$state/d" /etc/slurm
  $sudo tee "$conf" >/dev/null <<EOF
$marker
ClusterName=infoplane
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
DefMemPerCPU=1024
MinJobAge=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

node_idle() {
  sinfo -h -N -o '%T' | grep -qx idle
}

start() {
  install_packages
  if pid_alive "$state/slurmctld.pid" && pid_alive "$state/slurmd.pid"; then
    say "already running"
    wait_for 300 node_idle || { say "the node is not idle: $(sinfo -h -N -o '%N %T' 2>&1)"; exit 1; }
    return 0
  fi
  write_config
  $sudo mkdir -p /run/munge
  $sudo chown munge:munge /run/munge
  $sudo chmod 0755 /run/munge
  if ! pid_alive /run/munge/munged.pid; then
    $sudo runuser -u munge -- /usr/sbin/munged
  fi
  wait_for 100 munge -n || { say "munged did not start"; exit 1; }
  pid_alive "$state/slurmctld.pid" || $sudo /usr/sbin/slurmctld
  wait_for 200 scontrol ping || { say "slurmctld did not start; see $state/slurmctld.log"; exit 1; }
  pid_alive "$state/slurmd.pid" || $sudo /usr/sbin/slurmd
  if ! wait_for 300 node_idle; then
    say "the node did not become idle: $(sinfo -h -N -o '%N %T %E' 2>&1); see $state/slurmd.log"
    exit 1
  fi
  say "running: $(sinfo -h -N -o '%N %T, %c CPUs, %m MB')"
}

stop() {
  if pid_alive "$state/slurmctld.pid"; then
    # The cluster is this script's: its jobs go with it.
    $sudo scancel --full --quiet --state=PENDING,RUNNING,SUSPENDED 2>/dev/null || true
    $sudo scancel --full --quiet 2>/dev/null || true
    wait_for 150 bash -c '[ -z "$(squeue -h -o %i 2>/dev/null)" ]' || say "jobs still queued; stopping anyway"
  fi
  for daemon in slurmd slurmctld; do
    if pid_alive "$state/$daemon.pid"; then
      $sudo kill -TERM "$(cat "$state/$daemon.pid")"
    fi
  done
  for daemon in slurmd slurmctld; do
    wait_for 150 bash -c "! { [ -f '$state/$daemon.pid' ] && kill -0 \$(cat '$state/$daemon.pid') 2>/dev/null; }" \
      || { say "$daemon did not stop"; exit 1; }
  done
  if pid_alive /run/munge/munged.pid; then
    local pid
    pid=$(cat /run/munge/munged.pid)
    $sudo kill -TERM "$pid"
    wait_for 100 bash -c "! kill -0 $pid 2>/dev/null" || { say "munged did not stop"; exit 1; }
  fi
  say "stopped"
}

status() {
  if pid_alive "$state/slurmctld.pid" && pid_alive "$state/slurmd.pid"; then
    sinfo -N -o '%N %T %c %m'
    return 0
  fi
  say "not running"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
