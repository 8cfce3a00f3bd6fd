# -*- coding: utf-8 -*-
# Shared by the portctl.streaming modules: building portctl's command line from module options and
# running it. The modules always ask portctl for JSON and never parse its human text.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

PLAN_OPTION_SPEC = dict(
    profiles=dict(type="list", elements="str", default=[]),
    configs=dict(type="list", elements="path", default=[]),
    port80=dict(type="bool", default=False),
    with_options=dict(type="list", elements="str", default=[]),
    admin_from=dict(type="list", elements="str", default=[]),
    broadcasters=dict(type="list", elements="str", default=[]),
    source_sets=dict(type="dict", default={}),
    world=dict(type="bool", default=False),
    ssh_ports=dict(type="list", elements="int", default=[]),
    no_ssh_guard=dict(type="bool", default=False),
    portctl=dict(type="path", default="portctl"),
)


def plan_arguments(params):
    """The profiles and plan flags, as portctl's command line takes them."""
    args = list(params.get("profiles") or [])
    for path in params.get("configs") or []:
        args += ["--config", path]
    if params.get("port80"):
        args.append("--port80")
    for option in params.get("with_options") or []:
        args += ["--with", option]
    for cidr in params.get("admin_from") or []:
        args += ["--admin-from", cidr]
    for cidr in params.get("broadcasters") or []:
        args += ["--broadcaster", cidr]
    for name, members in sorted((params.get("source_sets") or {}).items()):
        if isinstance(members, (list, tuple)):
            members = ",".join(str(member) for member in members)
        args += ["--source-set", "%s=%s" % (name, members)]
    if params.get("world"):
        args.append("--world")
    for port in params.get("ssh_ports") or []:
        args += ["--ssh-port", str(port)]
    if params.get("no_ssh_guard"):
        args.append("--no-ssh-guard")
    return args


def error_message(stderr, stdout=""):
    """portctl's own message: its error lines on standard error, without the 'portctl: ' prefix."""
    lines = [line for line in (stderr or "").splitlines() if line.strip()]
    errors = [line for line in lines if ": error: " in line or line.startswith("Error:")]
    chosen = errors or lines or [(stdout or "").strip() or "portctl failed without a message"]
    return "\n".join(line[len("portctl: "):] if line.startswith("portctl: ") else line for line in chosen)


def run_json(module, args, ok_codes=(0,)):
    """Runs portctl; returns (rc, parsed JSON or None, stdout, stderr). Fails the module with
    portctl's message and exit code when rc is not in ok_codes."""
    rc, stdout, stderr = module.run_command(args, environ_update={"LANG": "C.UTF-8"})
    if rc not in ok_codes:
        module.fail_json(msg=error_message(stderr, stdout), rc=rc, stdout=stdout, stderr=stderr, cmd=args)
    try:
        value = json.loads(stdout) if stdout.strip() else None
    except ValueError:
        module.fail_json(msg="portctl printed no JSON", rc=rc, stdout=stdout, stderr=stderr, cmd=args)
    return rc, value, stdout, stderr
