#!/usr/bin/env python3
"""Checks that keep the workspace releasable, read from `cargo metadata`.

  versions     every crate has the workspace version and the workspace MSRV;
               every internal dependency requires exactly that version, but
               one on an unpublished (publish = false) member, which must be
               a path-only dev-dependency (`cargo package` strips it);
               every publishable crate has the metadata crates.io shows
  msrv-lock    no package in Cargo.lock declares a rust-version above ours
  unpublished  prints the unpublished members, one a line
  published    prints the publishable members, one `name version` a line
  package-workspace DIR
               writes DIR/Cargo.toml: a workspace of the crates `cargo package`
               made, unpacked in DIR/<name>-<version>/, each depending on the
               others as on crates.io (through [patch.crates-io]), with the
               profiles of ours

Run from the workspace root (the ci/ scripts do).
"""
import json
import os
import subprocess
import sys
import tomllib


def metadata(no_deps):
    args = ["cargo", "metadata", "--format-version", "1", "--locked"]
    if no_deps:
        args.append("--no-deps")
    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def workspace_package():
    with open("Cargo.toml", "rb") as f:
        manifest = tomllib.load(f)
    return manifest["workspace"]["package"], manifest["workspace"].get("dependencies", {})


def version_key(text):
    """`1.85` and `1.85.0` are the same release."""
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def versions():
    package, deps = workspace_package()
    version, msrv = package["version"], package["rust-version"]
    meta = metadata(no_deps=True)
    members = {p["name"]: p for p in meta["packages"]}
    problems = []
    unpublished = {name for name, p in members.items() if p.get("publish") == []}
    for name, spec in deps.items():
        if name in unpublished:
            problems.append(f"[workspace.dependencies] {name}: unpublished, so no workspace dependency "
                            "(a path-only dev-dependency where it is used)")
        elif name in members and isinstance(spec, dict):
            if "path" not in spec or "version" not in spec:
                problems.append(f"[workspace.dependencies] {name}: needs both `path` and `version`")
            elif spec["version"] != version:
                problems.append(f"[workspace.dependencies] {name}: version {spec['version']}, workspace is {version}")
    for name, p in sorted(members.items()):
        publishable = p.get("publish") != []
        if p["version"] != version and publishable:
            problems.append(f"{name}: version {p['version']}, workspace is {version} (use version.workspace = true)")
        if publishable and p.get("rust_version") != msrv:
            problems.append(f"{name}: rust-version {p.get('rust_version')}, workspace MSRV is {msrv} "
                            "(raise the workspace rust-version instead, see SECURITY.md)")
        for dep in p["dependencies"]:
            if dep["name"] in unpublished:
                if dep.get("kind") != "dev" or dep["req"] != "*":
                    problems.append(f"{name}: depends on the unpublished {dep['name']}: only as a "
                                    "path dev-dependency with no version")
            elif dep["name"] in members and dep.get("path"):
                if dep["req"] not in (f"^{version}", f"={version}"):
                    problems.append(f"{name}: depends on {dep['name']} {dep['req']}, must be {version}")
        if publishable:
            for field in ("description", "license", "repository", "readme"):
                if not p.get(field):
                    problems.append(f"{name}: no `{field}` in Cargo.toml")
            for field in ("keywords", "categories"):
                if not p.get(field):
                    problems.append(f"{name}: no `{field}` in Cargo.toml")
            crate_dir = os.path.dirname(p["manifest_path"])
            if p.get("readme") and not os.path.exists(os.path.join(crate_dir, p["readme"])):
                problems.append(f"{name}: readme {p['readme']} does not exist")
            if not os.path.exists(os.path.join(crate_dir, "LICENSE")):
                problems.append(f"{name}: no LICENSE file in {crate_dir}")
        print(f"{name} {p['version']} (rust-version {p.get('rust_version')})")
    return report(problems)


def msrv_lock():
    package, _ = workspace_package()
    msrv = package["rust-version"]
    problems = []
    for p in metadata(no_deps=False)["packages"]:
        declared = p.get("rust_version")
        if declared and version_key(declared) > version_key(msrv):
            problems.append(f"{p['name']} {p['version']} needs Rust {declared}, our MSRV is {msrv}")
    if not problems:
        print(f"every package in Cargo.lock builds with Rust {msrv}")
    return report(problems)


def unpublished():
    for p in metadata(no_deps=True)["packages"]:
        if p.get("publish") == []:
            print(p["name"])
    return 0


def published():
    for p in metadata(no_deps=True)["packages"]:
        if p.get("publish") != []:
            print(p["name"], p["version"])
    return 0


def package_workspace(directory):
    crates = [(p["name"], p["version"]) for p in metadata(no_deps=True)["packages"]
              if p.get("publish") != []]
    lines = ["# Written by ci/workspace_policy.py package-workspace for ci/package.sh.",
             "[workspace]", 'resolver = "3"', "members = ["]
    lines += [f'    "{name}-{version}",' for name, version in crates]
    lines += ["]", "", "[patch.crates-io]"]
    lines += [f'{name} = {{ path = "{name}-{version}" }}' for name, version in crates]
    # Our [profile.*] sections as they are: profiles are the workspace's, not
    # a package's, so `cargo package` leaves them out.
    section = ""
    with open("Cargo.toml") as f:
        for line in f.read().splitlines():
            if line.startswith("["):
                section = line.strip("[] ")
                if section.startswith("profile"):
                    lines.append("")
            if section.startswith("profile"):
                lines.append(line)
    with open(os.path.join(directory, "Cargo.toml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


def report(problems):
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) >= 2 else ""
    if command == "package-workspace" and len(sys.argv) == 3:
        sys.exit(package_workspace(sys.argv[2]))
    checks = {"versions": versions, "msrv-lock": msrv_lock, "unpublished": unpublished,
              "published": published}
    if command not in checks or len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(checks[command]())
