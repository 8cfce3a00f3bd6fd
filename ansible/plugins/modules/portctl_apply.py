#!/usr/bin/python
# -*- coding: utf-8 -*-
# portctl.streaming.portctl_apply: apply a portctl plan on the managed host.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: portctl_apply
short_description: Apply a portctl plan (the nftables openings of a streaming server)
description:
  - Runs C(portctl apply) on the managed host with C(--json) and reports what portctl reports.
  - The plan is the named profiles (C(dss), C(rtmp), C(mediamtx), ...) and/or the server's own
    configuration files (C(configs)), shaped by the plan options below, exactly as on the command line.
  - Check mode runs C(portctl apply --dry-run) (the kernel checks the batch; nothing changes) and
    reports C(changed) as portctl says a real apply would.
  - Diff mode returns portctl's difference against the live generation.
  - A second run with the same input reports C(changed=false) (portctl's no-op).
  - A failure returns portctl's message and its exit code as C(rc).
version_added: "1.0.0"
author:
  - portctl developers
options:
  state:
    description:
      - C(present) applies the plan.
      - C(absent) removes portctl's table (or chain) and nothing else (C(portctl remove)).
      - C(confirmed) confirms a change applied with I(confirm) (C(portctl confirm)); run it in a
        later task after a C(reset_connection) meta task, so that the confirmation proves a new SSH
        connection still gets through.
    type: str
    choices: [present, absent, confirmed]
    default: present
  profiles:
    description: Profiles to combine, e.g. C([dss, rtmp]).
    type: list
    elements: str
    default: []
  configs:
    description: The streaming server's own configuration files (C(--config)), one server each.
    type: list
    elements: path
    default: []
  port80:
    description: Turn on each profile's port-80 option (C(--port80)).
    type: bool
    default: false
  with_options:
    description: Profile options to turn on (C(--with)).
    type: list
    elements: str
    default: []
  admin_from:
    description: Addresses or CIDRs allowed to the admin ports (C(--admin-from)); without them they stay on loopback.
    type: list
    elements: str
    default: []
  broadcasters:
    description: Encoder addresses or CIDRs allowed to the broadcast ports (C(--broadcaster)).
    type: list
    elements: str
    default: []
  source_sets:
    description: Members of the source sets a profile declares, each name mapped to a list of CIDRs (C(--source-set)).
    type: dict
    default: {}
  world:
    description: Open admin and broadcast ports without declared sources to everyone (C(--world)).
    type: bool
    default: false
  ssh_ports:
    description: TCP ports the SSH guard keeps open besides those detected (C(--ssh-port)).
    type: list
    elements: int
    default: []
  no_ssh_guard:
    description: Leave the SSH guard out (C(--no-ssh-guard)).
    type: bool
    default: false
  force:
    description: Go ahead although a web server holds port 80 (C(--force)); recorded in portctl's history.
    type: bool
    default: false
  placement:
    description: C(standalone) (portctl's own table) or C(attach) (a chain in the table I(attach) names).
    type: str
    choices: [standalone, attach]
    default: standalone
  attach:
    description: With I(placement=attach), the C(family table chain) to attach to, e.g. C(inet filter input).
    type: str
  confirm:
    description:
      - Seconds after which the change rolls itself back unless confirmed (C(--confirm)).
      - The module returns once the change is live and pending; confirm it with I(state=confirmed).
    type: int
  state_dir:
    description: portctl's state directory (C(--state-dir)); default C(/var/lib/portctl).
    type: path
  portctl:
    description: The portctl executable.
    type: path
    default: portctl
notes:
  - Needs root (or CAP_NET_ADMIN) on the managed host.
  - Supports check mode and diff mode.
seealso:
  - module: portctl.streaming.portctl_probe
  - module: portctl.streaming.portctl_facts
"""

EXAMPLES = r"""
- name: Open what Darwin Streaming Server needs, admins from the office
  portctl.streaming.portctl_apply:
    profiles: [dss]
    admin_from: [192.0.2.0/24]
    broadcasters: [198.51.100.7]

- name: Follow MediaMTX's own configuration
  portctl.streaming.portctl_apply:
    configs: [/etc/mediamtx/mediamtx.yml]

- name: Apply with a 60-second safety net
  portctl.streaming.portctl_apply:
    profiles: [rtmp]
    confirm: 60
- name: Prove a new SSH connection still gets through
  ansible.builtin.meta: reset_connection
- name: Keep the change
  portctl.streaming.portctl_apply:
    state: confirmed

- name: Take portctl's openings out
  portctl.streaming.portctl_apply:
    state: absent
"""

RETURN = r"""
outcome:
  description: portctl's outcome, C(applied), C(no-change), C(dry-run), C(pending), C(removed), C(confirmed) or C(nothing).
  returned: always
  type: str
generation:
  description: The generation now live (for a dry run, the one that would be replaced).
  returned: when known
  type: int
diff_lines:
  description: The difference against the live generation, one line each.
  returned: state=present
  type: list
  elements: str
message:
  description: portctl's outcome line.
  returned: always
  type: str
rc:
  description: portctl's exit code.
  returned: always
  type: int
"""

import json
import os
import subprocess
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.portctl.streaming.plugins.module_utils.portctl import (
    PLAN_OPTION_SPEC,
    error_message,
    plan_arguments,
    run_json,
)


def state_arguments(params):
    return ["--state-dir", params["state_dir"]] if params.get("state_dir") else []


def status(module):
    _, value, _, _ = run_json(module, [module.params["portctl"], "status", "--json"] + state_arguments(module.params), ok_codes=(0, 1))
    return value or {}


def apply_pending(module, args):
    """apply --confirm waits for the confirmation: run it apart, and return once the change is
    pending. Its rollback timer, not this process, owns the deadline."""
    with tempfile.NamedTemporaryFile(prefix="portctl-apply-", suffix=".json", delete=False) as output:
        path = output.name
    with open(path, "wb") as out, open(os.devnull, "rb") as devnull:
        process = subprocess.Popen(args, stdin=devnull, stdout=out, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode("utf-8", "replace")
            with open(path) as handle:
                text = handle.read()
            os.unlink(path)
            if process.returncode != 0:
                module.fail_json(msg=error_message(stderr, text), rc=process.returncode, stderr=stderr, cmd=args)
            return text
        pending = (status(module).get("pending") or {}).get("generation")
        if pending:
            with open(path) as handle:
                text = handle.read()
            os.unlink(path)
            return text
        time.sleep(0.2)
    process.kill()
    module.fail_json(msg="portctl apply --confirm did not reach the pending state within 60 seconds", cmd=args)


def main():
    spec = dict(PLAN_OPTION_SPEC)
    spec.update(
        state=dict(type="str", choices=["present", "absent", "confirmed"], default="present"),
        force=dict(type="bool", default=False),
        placement=dict(type="str", choices=["standalone", "attach"], default="standalone"),
        attach=dict(type="str"),
        confirm=dict(type="int"),
        state_dir=dict(type="path"),
    )
    module = AnsibleModule(
        argument_spec=spec,
        supports_check_mode=True,
        required_if=[("placement", "attach", ["attach"])],
    )
    params = module.params
    portctl = params["portctl"]

    if params["state"] == "absent":
        live = status(module).get("generation") or 0
        if module.check_mode or not live:
            module.exit_json(changed=bool(live), outcome="removed" if live else "nothing", message="", rc=0)
        rc, out, err = module.run_command([portctl, "remove"] + state_arguments(params))
        if rc != 0:
            module.fail_json(msg=error_message(err, out), rc=rc, stdout=out, stderr=err)
        module.exit_json(changed=True, outcome="removed", generation=0, message=out.strip(), rc=rc)

    if params["state"] == "confirmed":
        pending = (status(module).get("pending") or {}).get("generation")
        if module.check_mode or not pending:
            module.exit_json(changed=bool(pending), outcome="confirmed" if pending else "nothing", generation=pending, message="", rc=0)
        rc, out, err = module.run_command([portctl, "confirm"] + state_arguments(params))
        if rc != 0:
            module.fail_json(msg=error_message(err, out), rc=rc, stdout=out, stderr=err)
        module.exit_json(changed=True, outcome="confirmed", generation=pending, message=out.strip(), rc=rc)

    if not params["profiles"] and not params["configs"]:
        module.fail_json(msg="name at least one profile (profiles) or a server configuration (configs)", rc=64)
    args = [portctl, "apply"] + plan_arguments(params) + state_arguments(params) + ["--json"]
    if params["placement"] == "attach":
        args += ["--attach", params["attach"]]
    if params["force"]:
        args.append("--force")
    if module.check_mode:
        args.append("--dry-run")
    elif params.get("confirm"):
        args += ["--confirm", str(params["confirm"])]
        text = apply_pending(module, args)
        value = json.loads(text) if text.strip() else {}
    if module.check_mode or not params.get("confirm"):
        _, value, _, _ = run_json(module, args)
    value = value or {}
    result = dict(
        changed=bool(value.get("changed")),
        outcome=value.get("outcome", ""),
        generation=value.get("generation"),
        diff_lines=value.get("diff") or [],
        message=value.get("message", ""),
        rc=0,
    )
    if module._diff and result["diff_lines"]:
        result["diff"] = dict(prepared="\n".join(result["diff_lines"]) + "\n")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
