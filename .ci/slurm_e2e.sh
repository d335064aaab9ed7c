#!/usr/bin/env bash
# End to end on a real Slurm cluster: start a single-node cluster on this machine (munged,
# slurmctld, slurmd from Debian's slurm-wlm and munge), run the default pipeline (config.yaml,
# every study) with `--executor slurm` through workflow/profiles/slurm, check that every job
# ran as a Slurm job, run the same pipeline locally, and compare every output byte for byte.
#
# Needs root (it installs packages and starts daemons); skips with exit 0 otherwise.
# Daemons are started in the background, their PIDs recorded, and stopped by those PIDs on
# exit. Slurm's configuration, state and logs live in $BASE (wiped at every start), so a second
# run on the same machine starts from a clean cluster; daemons left over by a run that was
# killed are found through the PID file it recorded.
set -euo pipefail
unset SLURM_CONF

REPO=$(cd "$(dirname "$0")/.." && pwd)
BASE=${TRIALFLOW_SLURM_E2E_BASE:-/var/lib/trialflow-slurm-e2e}
PIDS_FILE=$BASE/daemons.pid # "name pid" per line, for this run's daemons
PARTITION=debug
T0=$SECONDS

say() { printf '[slurm-e2e %4ds] %s\n' $((SECONDS - T0)) "$*"; }
fail() {
    say "FAIL: $*"
    exit 1
}

if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP .ci/slurm_e2e.sh: needs root to install slurm-wlm and munge and to start" \
        "munged, slurmctld and slurmd; run it as root to test the Slurm executor."
    exit 0
fi

# --- packages ---------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the packages' init scripts from starting daemons: this script starts its own.
    policy_added=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        policy_added=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
    [[ -n $policy_added ]] && rm -f /usr/sbin/policy-rc.d
fi
T_INSTALL=$((SECONDS - T0))
[[ -x $REPO/.venv/bin/snakemake ]] || make -C "$REPO" env
SNAKEMAKE=$REPO/.venv/bin/snakemake
"$REPO/.venv/bin/python" -c "import snakemake_executor_plugin_slurm" ||
    fail "snakemake-executor-plugin-slurm is not in .venv (requirements.lock)"

# --- daemons: stop leftovers of a killed run, start ours, stop them on exit -------------
stop_pid() { # pid: TERM, wait up to 10 s, then KILL
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
}

stop_recorded_daemons() { # the daemons in $PIDS_FILE, if still the same programs
    [[ -f $PIDS_FILE ]] || return 0
    local name pid
    # slurmd first (it runs the jobs), then slurmctld, then munged
    for name in slurmd slurmctld munged; do
        while read -r n pid; do
            [[ $n == "$name" ]] || continue
            if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' </proc/"$pid"/cmdline | grep -q "$name"; then
                stop_pid "$pid"
            fi
        done <"$PIDS_FILE"
    done
    rm -f "$PIDS_FILE"
}

cleanup() {
    local status=$?
    if [[ -f $PIDS_FILE ]]; then
        if [[ $status -ne 0 && -f $BASE/log/slurmctld.log ]]; then
            say "last lines of slurmctld.log and slurmd.log:"
            tail -n 20 "$BASE/log/slurmctld.log" "$BASE/log/slurmd.log" 2>/dev/null || true
        fi
        # jobs still queued or running (after a failure) end before their slurmd does
        timeout 20 scancel --partition="$PARTITION" 2>/dev/null || true
        say "stopping the daemons started here ($(awk '{printf "%s %s, ", $1, $2}' "$PIDS_FILE"))"
        stop_recorded_daemons
    fi
    [[ -n ${WORK:-} && $status -eq 0 ]] && rm -rf "$WORK"
    [[ -n ${WORK:-} && $status -ne 0 ]] && say "kept $WORK for inspection"
    say "exit $status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_recorded_daemons
mkdir -p "$BASE"
rm -rf "$BASE/state" "$BASE/spool" "$BASE/log" "$BASE/run"
mkdir -p "$BASE/state" "$BASE/spool" "$BASE/log" "$BASE/run"
: >"$PIDS_FILE"

# Munge: reuse a munged that already answers (not ours to stop), else start one.
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already running: reusing it"
else
    if [[ ! -s /etc/munge/munge.key ]]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    mkdir -p /var/lib/munge /var/log/munge /run/munge
    chown munge:munge /var/lib/munge /var/log/munge /run/munge
    chmod 0755 /run/munge
    # nothing answers on the socket: whatever is left there is stale
    rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock /run/munge/munged.pid
    setpriv --reuid=munge --regid=munge --clear-groups /usr/sbin/munged --foreground \
        >"$BASE/log/munged.out" 2>&1 &
    munged_pid=$!
    echo "munged $munged_pid" >>"$PIDS_FILE"
    for _ in $(seq 1 40); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.5
    done
    munge -n | unmunge | grep -q "STATUS: *Success" || fail "munged did not start"
    say "munged started (pid $munged_pid)"
fi

# Slurm: one node, this host, every CPU and all memory but 1 GiB.
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 1024))
# At Slurm's standard place: the jobs' own srun calls read it there (the executor plugin
# strips SLURM_* variables, SLURM_CONF among them, from the job step's environment).
SLURM_CONF=/etc/slurm/slurm.conf
MARK="# Generated by trialflow's .ci/slurm_e2e.sh"
if [[ -e $SLURM_CONF ]] && ! head -n 1 "$SLURM_CONF" | grep -qF "$MARK"; then
    fail "$SLURM_CONF exists and was not written by this script: not replacing a site's Slurm"
fi
mkdir -p /etc/slurm
cat >"$SLURM_CONF" <<EOF
$MARK: a single-node cluster on $HOST.
ClusterName=trialflow
SlurmctldHost=$HOST
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -f "$SLURM_CONF" >"$BASE/log/slurmctld.out" 2>&1 &
echo "slurmctld $!" >>"$PIDS_FILE"
slurmd -D -f "$SLURM_CONF" >"$BASE/log/slurmd.out" 2>&1 &
echo "slurmd $!" >>"$PIDS_FILE"
state=""
for _ in $(seq 1 60); do
    state=$(sinfo -h -N -p "$PARTITION" -o %T 2>/dev/null || true)
    [[ $state == idle ]] && break
    sleep 1
done
[[ $state == idle ]] || fail "node $HOST not idle after 60 s (sinfo: '${state}')"
sinfo
T_CLUSTER=$((SECONDS - T0))
say "cluster up: node $HOST, $CPUS CPUs, $MEM_MB MiB, partition $PARTITION"

# --- the pipeline under Slurm, then locally ---------------------------------------------
WORK=$(mktemp -d /tmp/trialflow-slurm-e2e.XXXXXX)
for run in slurm local; do
    mkdir -p "$WORK/$run/data"
    cp -a "$REPO/data/raw" "$WORK/$run/data/raw"
done
common=(-s "$REPO/Snakefile" --configfile "$REPO/config.yaml")

# jobs the run must submit: every job but the target rule `all`, which runs nothing
n_jobs=$("$SNAKEMAKE" "${common[@]}" --directory "$WORK/slurm" -n --quiet rules --cores 1 2>&1 |
    awk '$1 == "total" {total = $2} $1 == "all" {all = $2} END {print total - all}')
[[ $n_jobs -gt 0 ]] || fail "could not count the pipeline's jobs"

say "running the default pipeline with --executor slurm ($n_jobs jobs)"
t=$SECONDS
TRIALFLOW_SLURM_PARTITION=$PARTITION "$SNAKEMAKE" "${common[@]}" --directory "$WORK/slurm" \
    --workflow-profile "$REPO/workflow/profiles/slurm" \
    --slurm-keep-successful-logs >"$WORK/slurm.log" 2>&1 ||
    {
        tail -n 60 "$WORK/slurm.log"
        fail "the Slurm run failed (log: $WORK/slurm.log)"
    }
T_SLURM=$((SECONDS - t))
say "Slurm run finished in ${T_SLURM} s"

# Evidence: one plugin log per job, and the controller saw each of those jobs end with 0.
mapfile -t job_logs < <(find "$WORK/slurm/.snakemake/slurm_logs" -name '*.log' | sort)
[[ ${#job_logs[@]} -eq $n_jobs ]] ||
    fail "expected $n_jobs Slurm job logs, found ${#job_logs[@]}"
ctld_log=$BASE/log/slurmctld.log
for log in "${job_logs[@]}"; do
    id=$(basename "$log" .log)
    grep -q "_job_complete: JobId=$id WEXITSTATUS 0" "$ctld_log" ||
        fail "slurmctld did not record job $id ($log) ending with exit status 0"
    grep -q "_job_complete: JobId=$id done" "$ctld_log" ||
        fail "slurmctld did not record job $id ($log) as done"
done
n_done=$(grep -c "_job_complete: JobId=[0-9]* done" "$ctld_log")
[[ $n_done -eq $n_jobs ]] || fail "slurmctld recorded $n_done finished jobs, expected $n_jobs"
say "all $n_jobs jobs ran under Slurm (job ids $(basename -a -s .log "${job_logs[@]}" | sort -n | tr '\n' ' '))"

say "running the same pipeline locally"
t=$SECONDS
"$SNAKEMAKE" "${common[@]}" --directory "$WORK/local" --cores "$CPUS" >"$WORK/local.log" 2>&1 ||
    {
        tail -n 60 "$WORK/local.log"
        fail "the local run failed (log: $WORK/local.log)"
    }
T_LOCAL=$((SECONDS - t))
say "local run finished in ${T_LOCAL} s"

# --- every output byte for byte (provenance.json records the command line) ---------------
outputs() {
    (cd "$1" && find results data/processed -type f ! -path 'results/*/provenance.json' | sort)
}
outputs "$WORK/slurm" >"$WORK/slurm.files"
outputs "$WORK/local" >"$WORK/local.files"
diff "$WORK/slurm.files" "$WORK/local.files" || fail "the two runs wrote different files"
n_files=$(wc -l <"$WORK/local.files")
[[ $n_files -gt 0 ]] || fail "no outputs to compare"
different=0
while read -r file; do
    if ! cmp -s "$WORK/slurm/$file" "$WORK/local/$file"; then
        echo "differs: $file"
        different=$((different + 1))
    fi
done <"$WORK/local.files"
[[ $different -eq 0 ]] || fail "$different of $n_files output files differ between Slurm and local"
say "all $n_files output files under results/ and data/processed/ are byte-identical"

say "timings: install ${T_INSTALL} s, cluster start $((T_CLUSTER - T_INSTALL)) s," \
    "Slurm run ${T_SLURM} s, local run ${T_LOCAL} s, total $((SECONDS - T0)) s"
say "PASS"
