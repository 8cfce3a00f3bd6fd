#!/usr/bin/python
# -*- coding: utf-8 -*-
# portctl.streaming.portctl_facts: what portctl has applied on the host, as facts.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: portctl_facts
short_description: Gather portctl's live generation, plan, drift, blocking tables and conflicts as facts
description:
  - Runs C(portctl status --json) and, for the live plan's profiles, C(portctl conflicts --json),
    and sets the C(portctl) fact.
version_added: "1.0.0"
author:
  - portctl developers
options:
  state_dir:
    description: portctl's state directory (C(--state-dir)).
    type: path
  conflicts:
    description: Also check the live plan's ports for conflicts (other programs holding them).
    type: bool
    default: true
  portctl:
    description: The portctl executable.
    type: path
    default: portctl
notes:
  - Reads only; supports check mode.
"""

EXAMPLES = r"""
- name: What is applied?
  portctl.streaming.portctl_facts:
- name: Say so
  ansible.builtin.debug:
    msg: "generation {{ ansible_facts.portctl.generation }}, drift {{ ansible_facts.portctl.drift }}"
"""

RETURN = r"""
ansible_facts:
  description: The C(portctl) fact.
  returned: always
  type: dict
  contains:
    portctl:
      description:
        - C(generation), C(applied) (time), C(profiles), C(options), C(placement), C(pending),
          C(persisted), C(drift) (true, false, or null when unknown), C(drift_detail),
          C(config_drift) (findings, or null), C(blocking_tables) (their names), C(openings)
          (status's per-opening rows) and C(conflicts) (conflicts' rows, or null).
      type: dict
      returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.portctl.streaming.plugins.module_utils.portctl import run_json


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state_dir=dict(type="path"),
            conflicts=dict(type="bool", default=True),
            portctl=dict(type="path", default="portctl"),
        ),
        supports_check_mode=True,
    )
    portctl = module.params["portctl"]
    state = ["--state-dir", module.params["state_dir"]] if module.params.get("state_dir") else []
    _, status, _, _ = run_json(module, [portctl, "status", "--json"] + state, ok_codes=(0, 1))
    status = status or {}
    drift = status.get("drift")
    blocking = status.get("blocking_tables") or []
    conflicts = None
    if module.params["conflicts"] and status.get("profiles"):
        _, value, _, _ = run_json(module, [portctl, "conflicts"] + status["profiles"] + ["--json"], ok_codes=(0, 2))
        conflicts = (value or {}).get("ports")
    fact = dict(
        generation=status.get("generation", 0),
        applied=status.get("applied"),
        profiles=status.get("profiles") or [],
        options=status.get("options") or [],
        placement=status.get("placement"),
        pending=status.get("pending"),
        persisted=status.get("persisted", False),
        drift=None if drift is None else bool(drift.get("added") or drift.get("missing")),
        drift_detail=drift,
        config_drift=(status.get("config_drift") or {}).get("findings") if status.get("config_drift") else None,
        blocking_tables=blocking,
        openings=status.get("openings") or [],
        conflicts=conflicts,
    )
    module.exit_json(changed=False, ansible_facts=dict(portctl=fact))


if __name__ == "__main__":
    main()
