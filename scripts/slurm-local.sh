#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, for the Slurm executor's test and CI
# (recipe: ../shared/reference/slurm-local.md; Debian packages slurm-wlm and munge, installed by
# scripts/setup.sh). Needs root (or sudo).
#
#   scripts/slurm-local.sh start    munged, slurmctld, slurmd; waits until the node is idle.
#                                   Idempotent: a cluster that already answers is left as it is.
#   scripts/slurm-local.sh stop     scontrol shutdown (slurmctld, slurmd), then munged by its pid
#   scripts/slurm-local.sh status   sinfo
#
# /etc/slurm/slurm.conf is written only when there is none or when this script wrote it (marker
# line below): an existing cluster's configuration is never replaced.
set -euo pipefail
MARKER="# written by rtap scripts/slurm-local.sh"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

die() { echo "slurm-local: $*" >&2; exit 1; }

up() { sinfo -h -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated|completing)'; }

start() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null ||
    die "Slurm or MUNGE is not installed (Debian: apt-get install -y slurm-wlm munge; scripts/setup.sh does it)"
  if up; then echo "slurm-local: already running"; sinfo; return 0; fi
  local H CPUS
  H=$(hostname); CPUS=$(nproc)
  $SUDO mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
  [ -f /etc/munge/munge.key ] || $SUDO mungekey -c
  $SUDO chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
  $SUDO chmod 400 /etc/munge/munge.key
  if [ ! -f /etc/slurm/slurm.conf ] || grep -qF "$MARKER" /etc/slurm/slurm.conf; then
    $SUDO tee /etc/slurm/slurm.conf >/dev/null <<EOF
$MARKER
ClusterName=local
SlurmctldHost=$H
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
# a test cluster: look for startable jobs every second (the default 30 s backfill cycle left the
# cores idle between a sweep's job arrays)
SchedulerParameters=bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$H CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
EOF
  else
    echo "slurm-local: keeping the existing /etc/slurm/slurm.conf (not written by this script)"
  fi
  # each daemon only when it is not running already (its pid file names a live process)
  alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
  alive /run/munge/munged.pid || $SUDO runuser -u munge -- munged
  alive /run/slurmctld.pid || $SUDO slurmctld
  alive /run/slurmd.pid || $SUDO slurmd
  for _ in $(seq 1 30); do
    if up; then sinfo; return 0; fi
    # a node left down by an earlier run comes back
    $SUDO scontrol update nodename="$H" state=resume >/dev/null 2>&1 || true
    sleep 1
  done
  echo "slurm-local: the node did not come up within 30 s; sinfo says:" >&2
  sinfo >&2 || true
  tail -n 5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
}

stop() {
  if sinfo >/dev/null 2>&1; then $SUDO scontrol shutdown || true; fi
  for _ in $(seq 1 10); do
    [ -f /run/slurmctld.pid ] && kill -0 "$(cat /run/slurmctld.pid)" 2>/dev/null || break
    sleep 1
  done
  if [ -f /run/munge/munged.pid ] && kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null; then
    $SUDO kill "$(cat /run/munge/munged.pid)"
  fi
  echo "slurm-local: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
