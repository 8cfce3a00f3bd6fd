#!/usr/bin/python
# -*- coding: utf-8 -*-
# portctl.streaming.portctl_probe: probe hosts' ports from the host this runs on.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: portctl_probe
short_description: Probe streaming servers' ports from this host, in each port's own protocol
description:
  - Runs C(portctl probe) on the host the task runs on (a vantage host, often via C(delegate_to))
    against one or more targets in parallel, with C(--format json), and returns per-port verdicts.
  - TCP ports are asked in their protocol (RTSP, HTTP, RTMP, ICY, MMS); UDP ports get streamd's
    signed knock (give I(key)).
  - Fails when a port's verdict is not C(ok), unless I(allow_failures).
  - Can write one JUnit file with a testsuite per host (I(junit)).
version_added: "1.0.0"
author:
  - portctl developers
options:
  targets:
    description:
      - The hosts to probe. Each item is a host, optionally followed by its own profiles and plan
        flags, as a line of C(portctl probe --targets), e.g. C(192.0.2.11 rtmp --admin-from 10.0.0.0/8).
      - An item with only a host uses I(profiles), I(configs) and the plan options.
    type: list
    elements: str
    required: true
  profiles:
    description: Profiles whose ports to probe.
    type: list
    elements: str
    default: []
  configs:
    description: Server configuration files whose ports to probe (C(--config)).
    type: list
    elements: path
    default: []
  ports:
    description: More ports to probe on every target, e.g. C([554/tcp, 6970-6999/udp]).
    type: list
    elements: str
    default: []
  port80:
    description: The profiles' port-80 option.
    type: bool
    default: false
  with_options:
    description: Profile options (C(--with)).
    type: list
    elements: str
    default: []
  admin_from:
    description: As for portctl_apply.
    type: list
    elements: str
    default: []
  broadcasters:
    description: As for portctl_apply.
    type: list
    elements: str
    default: []
  source_sets:
    description: As for portctl_apply.
    type: dict
    default: {}
  world:
    description: As for portctl_apply.
    type: bool
    default: false
  ssh_ports:
    description: Accepted for symmetry with portctl_apply; the probe does not use them.
    type: list
    elements: int
    default: []
  no_ssh_guard:
    description: Accepted for symmetry with portctl_apply; the probe does not use it.
    type: bool
    default: false
  key:
    description: The knock key file streamd uses (C(--key)).
    type: path
  timeout:
    description: How long to wait for each answer, e.g. C(2s) or C(500ms).
    type: str
    default: 2s
  junit:
    description: Write the JUnit report (a testsuite per host) to this file on the host the task runs on.
    type: path
  allow_failures:
    description: Return the verdicts without failing when a port is not C(ok).
    type: bool
    default: false
  portctl:
    description: The portctl executable.
    type: path
    default: portctl
notes:
  - Sends traffic to the targets only; changes nothing on any host, so check mode runs it too.
seealso:
  - module: portctl.streaming.portctl_apply
"""

EXAMPLES = r"""
- name: Prove every edge from the monitoring host
  portctl.streaming.portctl_probe:
    targets: "{{ groups['edges'] | map('extract', hostvars, 'ansible_host') | list }}"
    profiles: [rtmp]
    key: /etc/portctl/knock.key
    junit: /var/tmp/edges.xml
  delegate_to: monitor.example.org
  run_once: true

- name: Each host with its own plan
  portctl.streaming.portctl_probe:
    targets:
      - 192.0.2.11 rtmp
      - 192.0.2.12 mediamtx --with api --admin-from 10.0.0.0/8
"""

RETURN = r"""
passed:
  description: True when every port of every target is C(ok).
  returned: always
  type: bool
hosts:
  description: One entry per target, in order, with C(host), C(passed) and C(results).
  returned: always
  type: list
  elements: dict
verdicts:
  description: Each host's verdicts by port, such as C(554/tcp) mapped to C(ok), for quick checks.
  returned: always
  type: dict
exit_code:
  description: portctl probe's exit code (1 when a port failed); C(rc) too when the task fails.
  returned: always
  type: int
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.portctl.streaming.plugins.module_utils.portctl import PLAN_OPTION_SPEC, plan_arguments, run_json


def main():
    spec = dict(PLAN_OPTION_SPEC)
    spec.update(
        targets=dict(type="list", elements="str", required=True),
        ports=dict(type="list", elements="str", default=[]),
        key=dict(type="path", no_log=False),
        timeout=dict(type="str", default="2s"),
        junit=dict(type="path"),
        allow_failures=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    with tempfile.NamedTemporaryFile("w", prefix="portctl-targets-", delete=False) as handle:
        handle.write("\n".join(params["targets"]) + "\n")
        targets_file = handle.name
    args = [params["portctl"], "probe", "--targets", targets_file] + plan_arguments(params) + ["--format", "json"]
    args += ["--timeout", params["timeout"]]
    if params["ports"]:
        args += ["--ports", ",".join(params["ports"])]
    if params.get("key"):
        args += ["--key", params["key"]]
    if params.get("junit"):
        args += ["--junit-file", params["junit"]]
    try:
        rc, value, _, _ = run_json(module, args, ok_codes=(0, 1))
    finally:
        os.unlink(targets_file)
    value = value or {}
    hosts = value.get("hosts", [])
    verdicts = {}
    failing = []
    for host in hosts:
        per = {}
        for result in host.get("results", []):
            name = "%s/%s" % (result.get("port"), result.get("transport"))
            if result.get("check", "port") != "port":
                name += " " + result["check"]
            per[name] = result.get("verdict")
            if result.get("verdict") != "ok":
                failing.append("%s %s: %s (%s)" % (host.get("host"), name, result.get("verdict"), result.get("detail")))
        verdicts[host.get("host")] = per
    # Ansible fails any result with a non-zero rc: portctl's exit code is exit_code unless failing.
    result = dict(changed=False, passed=bool(value.get("passed")), hosts=hosts, verdicts=verdicts, exit_code=rc)
    if failing and not params["allow_failures"]:
        module.fail_json(msg="%d port(s) failed: %s" % (len(failing), "; ".join(failing[:20])), rc=rc, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
