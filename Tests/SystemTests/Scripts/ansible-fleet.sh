#!/usr/bin/env bash
# The Ansible collection across a fleet (issue 16): three hosts, each a network namespace with an
# sshd of its own (throwaway keys, its own port, started here by hand and stopped by PID, never
# enabled), a fourth namespace as controller and vantage host. ansible-core applies a different
# plan to each host over SSH; a second run changes nothing; --check changes nothing; a host with
# an invalid plan fails alone with portctl's message; a probe from the vantage namespace writes one
# JUnit file with a testsuite per host: its planned ports ok, the others filtered.
# Usage: ansible-fleet.sh PORTCTL STREAMD REPOSITORY. Prints "ok: ..." per check, "FAIL: ..." and
# exits 1 on the first failure.
set -euo pipefail
portctl=$1 streamd=$2 repo=$3
tag=$$
work=$(mktemp -d /tmp/ansible-fleet.XXXXXX)
chmod 755 "$work"
ctl=afc-$tag
pids=()
streamd_pid=()
made_run_sshd=""
# The streamd processes the role starts (their log is in $work): found by that path, ended by PID.
role_streamds() { pgrep -f -- "--log-file $work/validate.log" || true; }
cleanup() {
  for pid in $(role_streamds); do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for i in 1 2 3; do ip netns del "afh$i-$tag" 2>/dev/null || true; done
  ip netns del "$ctl" 2>/dev/null || true
  [[ -n $made_run_sshd ]] && rmdir /run/sshd 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# sshd's privilege separation directory, which the package's tmpfiles entry makes at boot.
if [[ ! -d /run/sshd ]]; then mkdir -m 0755 /run/sshd; made_run_sshd=1; fi
ip netns add "$ctl"
ip -n "$ctl" link set lo up
ssh-keygen -q -t ed25519 -N '' -C portctl-test -f "$work/id"
cp "$work/id.pub" "$work/authorized_keys"
head -c 32 /dev/urandom > "$work/key"; chmod 600 "$work/key"
for i in 1 2 3; do
  ns=afh$i-$tag
  ip netns add "$ns"
  ip link add "afa$i-$tag" netns "$ns" type veth peer name "afb$i-$tag" netns "$ctl"
  ip -n "$ns" addr add "10.210.$i.1/24" dev "afa$i-$tag"
  ip -n "$ctl" addr add "10.210.$i.2/24" dev "afb$i-$tag"
  ip -n "$ns" link set lo up; ip -n "$ns" link set "afa$i-$tag" up; ip -n "$ctl" link set "afb$i-$tag" up
  ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey$i"
  cat > "$work/sshd_config$i" <<CONF
Port 2222
ListenAddress 10.210.$i.1
HostKey $work/hostkey$i
PidFile $work/sshd$i.pid
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CONF
  ip netns exec "$ns" /usr/sbin/sshd -D -e -f "$work/sshd_config$i" 2>"$work/sshd$i.log" &
  pids+=($!)
  # streamd serves every plan's ports on every host; each host's firewall opens its own plan only.
  ip netns exec "$ns" "$streamd" rtmp pna rtsp --key "$work/key" --log-file "$work/streamd$i.log" &
  pids+=($!)
  streamd_pid[i]=$!
done
for i in 1 2 3; do
  for _ in $(seq 1 100); do
    ip netns exec "$ctl" bash -c "exec 3<>/dev/tcp/10.210.$i.1/2222" 2>/dev/null && break
    sleep 0.1
  done
done

mkdir -p "$work/collections" "$work/ansible-home" "$work/remote-tmp"
(cd "$work" && ansible-galaxy collection build --force "$repo/ansible" >/dev/null)
ansible-galaxy collection install -p "$work/collections" "$work"/portctl-streaming-*.tar.gz >/dev/null 2>&1
for module in portctl_apply portctl_probe portctl_facts; do
  doc=$(ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_HOME="$work/ansible-home" ansible-doc "portctl.streaming.$module" 2>&1) ||
    fail "ansible-doc $module: $doc"
  grep "EXAMPLES" <<<"$doc" >/dev/null || fail "ansible-doc $module shows no examples"
done
echo "ok: ansible-doc shows every module, with examples"
cat > "$work/inventory.yml" <<INV
all:
  vars:
    ansible_user: root
    ansible_port: 2222
    ansible_ssh_private_key_file: $work/id
    ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
    ansible_python_interpreter: /usr/bin/python3
    portctl_binary: $portctl
  children:
    edges:
      hosts:
        edge1: {ansible_host: 10.210.1.1, plan: [rtmp], state_dir: $work/state1}
        edge2: {ansible_host: 10.210.2.1, plan: [pna], state_dir: $work/state2}
        edge3: {ansible_host: 10.210.3.1, plan: [rtsp], state_dir: $work/state3}
INV
cat > "$work/apply.yml" <<'PLAY'
- name: Apply each edge's plan
  hosts: edges
  gather_facts: false
  tasks:
    - name: Apply
      portctl.streaming.portctl_apply:
        profiles: "{{ ['no-such-profile'] if inventory_hostname == (broken | default('')) else plan + (extra | default([])) }}"
        state_dir: "{{ state_dir }}"
        portctl: "{{ portctl_binary }}"
    - name: Facts
      portctl.streaming.portctl_facts:
        state_dir: "{{ state_dir }}"
        portctl: "{{ portctl_binary }}"
        conflicts: false
    - name: The fact says what is live
      ansible.builtin.assert:
        that: ansible_facts.portctl.profiles == plan + (extra | default([])) or ansible_check_mode
PLAY
playbook() {
  ip netns exec "$ctl" env ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_HOME="$work/ansible-home" \
    ANSIBLE_REMOTE_TEMP="$work/remote-tmp" ANSIBLE_LOCAL_TEMP="$work/ansible-home/tmp" ANSIBLE_NOCOLOR=1 \
    ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_SSH_ARGS="-o ControlMaster=no -o ControlPersist=no" ansible-playbook -i "$work/inventory.yml" "$@" 2>&1
}
recap() { grep -E "^$1 +:" <<<"$2" | head -1; }
rulesets() { for i in 1 2 3; do ip netns exec "afh$i-$tag" nft -s list ruleset; echo "--"; done; }

out=$(playbook "$work/apply.yml") || fail "first run: $out"
for i in 1 2 3; do
  [[ $(recap "edge$i" "$out") =~ changed=1\ .*failed=0 ]] || fail "first run, edge$i: $(recap "edge$i" "$out")"
done
grep "tcp . 1935" <<<"$(ip netns exec "afh1-$tag" nft list table inet portctl)" >/dev/null || fail "edge1 has no rtmp opening"
grep "tcp . 7070" <<<"$(ip netns exec "afh2-$tag" nft list table inet portctl)" >/dev/null || fail "edge2 has no pna opening"
echo "ok: the first run applies a different plan on each of three hosts"

out=$(playbook "$work/apply.yml") || fail "second run: $out"
for i in 1 2 3; do [[ $(recap "edge$i" "$out") =~ changed=0\ .*failed=0 ]] || fail "second run, edge$i: $(recap "edge$i" "$out")"; done
echo "ok: a second run reports changed=0 on every host"

before=$(rulesets)
out=$(playbook "$work/apply.yml" --check --diff -e '{"extra": ["mms"]}') || fail "check run: $out"
grep -E "^\+.*tcp \. 1755" <<<"$out" >/dev/null || fail "diff mode shows no portctl diff: $out"
for i in 1 2 3; do [[ $(recap "edge$i" "$out") =~ changed=1\ .*failed=0 ]] || fail "check run, edge$i: $(recap "edge$i" "$out")"; done
[[ $(rulesets) == "$before" ]] || fail "--check changed a ruleset"
echo "ok: --check reports the change and changes nothing on any host"

set +e
out=$(playbook "$work/apply.yml" -e broken=edge3)
set -e
[[ $(recap edge3 "$out") =~ failed=1 ]] || fail "the broken host did not fail: $(recap edge3 "$out")"
grep "unknown profile 'no-such-profile'" <<<"$out" >/dev/null || fail "portctl's message is missing: $out"
grep '"rc": 64' <<<"$out" >/dev/null || fail "portctl's exit code is missing: $out"
for i in 1 2; do [[ $(recap "edge$i" "$out") =~ failed=0 ]] || fail "edge$i failed with edge3: $(recap "edge$i" "$out")"; done
[[ $(rulesets) == "$before" ]] || fail "the failed run changed a ruleset"
echo "ok: a host with an invalid plan fails alone, with portctl's message and exit code"

cat > "$work/probe.yml" <<PLAY
- name: Probe the edges from the vantage host
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Probe
      portctl.streaming.portctl_probe:
        targets: ["10.210.1.1 rtmp", "10.210.2.1 pna", "10.210.3.1 rtsp"]
        ports: [1935/tcp, 7070/tcp, 554/tcp]
        key: $work/key
        timeout: 1s
        junit: $work/probe.xml
        allow_failures: true
        portctl: $portctl
PLAY
out=$(ip netns exec "$ctl" env ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_HOME="$work/ansible-home" ANSIBLE_NOCOLOR=1 \
  ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ansible-playbook -e ansible_python_interpreter=/usr/bin/python3 \
  "$work/probe.yml" 2>&1) || fail "probe run: $out"
python3 - "$work/probe.xml" <<'PY' || fail "the JUnit report: $(cat "$work/probe.xml")"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
planned = {"10.210.1.1": {"1935/tcp"}, "10.210.2.1": {"7070/tcp"}, "10.210.3.1": {"554/tcp", "554/udp"}}
suites = {s.get("name"): s for s in root.findall("testsuite")}
assert set(suites) == set(planned), f"testsuites {sorted(suites)}"
for host, suite in suites.items():
    for case in suite.findall("testcase"):
        port = case.get("name").split()[0]
        failure = case.find("failure")
        if port in planned[host]:
            assert failure is None, f"{host} {port} planned but {failure.get('type')}"
        else:
            assert failure is not None and failure.get("type") == "filtered", f"{host} {port} unplanned but not filtered"
print("checked", sum(len(s.findall("testcase")) for s in suites.values()), "testcases")
PY
echo "ok: one JUnit file, a testsuite per host: planned ports ok, unplanned ports filtered"

# The role on one host: a new plan under a 120-second safety net, confirmed over a new
# connection, then probed from the vantage host (this namespace) by delegation.
cat > "$work/role.yml" <<PLAY
- name: The fleet role on edge1
  hosts: edge1
  gather_facts: false
  roles:
    - role: portctl.streaming.fleet
      vars:
        portctl_profiles: [rtmp, pna]
        portctl_state_dir: "{{ state_dir }}"
        portctl_confirm: 120
        portctl_vantage: localhost
        portctl_probe_address: 10.210.1.1
        portctl_streamd_key: $work/key
        portctl_probe_timeout: 1s
PLAY
out=$(playbook "$work/role.yml") || fail "role run: $out"
[[ $(recap edge1 "$out") =~ failed=0 ]] || fail "role run: $(recap edge1 "$out")"
status=$(ip netns exec "afh1-$tag" "$portctl" status --json --state-dir "$work/state1")
python3 -c "import json,sys; s=json.loads(sys.argv[1]); assert s['pending'] is None and s['profiles']==['rtmp','pna'], s" "$status" ||
  fail "after the role: $status"
grep "tcp . 7070" <<<"$(ip netns exec "afh1-$tag" nft list table inet portctl)" >/dev/null || fail "the role's plan is not live"
echo "ok: the role applies under --confirm, confirms over a new connection, and probes from the vantage host"

# The role's validation window on edge3, whose own streamd this script stops first: the role
# starts streamd, the vantage host probes it, the role stops it. Twice: streamd appends to its log,
# and the second run must wait for its own "serving" line, not the first run's.
kill "${streamd_pid[3]}"; wait "${streamd_pid[3]}" 2>/dev/null || true
if ip netns exec "$ctl" bash -c "exec 3<>/dev/tcp/10.210.3.1/554" 2>/dev/null; then fail "edge3's streamd still answers on 554"; fi
cat > "$work/validate.yml" <<PLAY
- name: The fleet role's validation window on edge3
  hosts: edge3
  gather_facts: false
  roles:
    - role: portctl.streaming.fleet
      vars:
        portctl_profiles: [rtsp]
        portctl_state_dir: "{{ state_dir }}"
        portctl_validate_with_streamd: true
        portctl_streamd_binary: $streamd
        portctl_streamd_log: $work/validate.log
        portctl_streamd_key: $work/key
        portctl_vantage: localhost
        portctl_probe_address: 10.210.3.1
        portctl_probe_timeout: 1s
PLAY
for run in 1 2; do
  out=$(playbook "$work/validate.yml") || fail "validation run $run: $out"
  [[ $(recap edge3 "$out") =~ failed=0 ]] || fail "validation run $run: $(recap edge3 "$out")"
  grep -E "TASK \[portctl.streaming.fleet : Probe the host from the vantage host\]" <<<"$out" >/dev/null ||
    fail "validation run $run did not probe: $out"
  for _ in $(seq 1 50); do [[ -z $(role_streamds) ]] && break; sleep 0.1; done
  [[ -z $(role_streamds) ]] || fail "validation run $run left streamd running: $(role_streamds)"
  [[ $(grep -c "serving.*listeners" "$work/validate.log") -eq 1 ]] || fail "validation run $run: the log holds another run's lines"
done
echo "ok: the role serves the plan with streamd for the validation window, probes it, and stops it"
