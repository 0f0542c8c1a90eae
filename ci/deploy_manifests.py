"""Checks the Kubernetes deployment in deploy/kubernetes/ (run by
ci/deploy-manifests.sh, in the venv that holds kubernetes-validate):

1. every manifest against the Kubernetes schemas of each pinned version,
   offline and strict (an unknown field is an error);
2. that the manifests agree with psecd and with each other: the ConfigMap's
   config.toml uses psecd's default socket and key store paths (read from
   psecd's and psec-client's sources and the systemd units), the DaemonSet
   mounts what the configuration names where it names it (socket directory
   and key store on hostPaths, the SPIRE agent's socket read-only and
   matching workload_endpoint), its probes run `psec ping` on that socket,
   it runs as the image's parsec uid with the hardening the docs promise,
   and the workload example reaches the same socket and agent;
3. that psecd starts on the ConfigMap's config.toml, unchanged but for its
   paths (moved into a temporary directory), as the image's uid, and
   answers the probe's own command.

Every problem is printed; any problem fails.
Usage: deploy_manifests.py --psecd PATH --psec PATH MANIFEST_DIR
       deploy_manifests.py --prune-schemas (after installing: keeps only the
       schemas of the versions checked)
"""

import argparse
import os
import posixpath
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import yaml
from kubernetes_validate import utils as kv

# The Kubernetes versions the manifests are checked against: the oldest the
# deployment is written for, and the newest kubernetes-validate ships.
KUBERNETES_VERSIONS = ["1.31.0", "1.37.0"]

ROOT = Path(__file__).resolve().parent.parent
problems = []


def problem(text):
    problems.append(text)


def source_value(path, pattern, what):
    """The first group of `pattern` in ROOT/path, or None (a problem)."""
    match = re.search(pattern, (ROOT / path).read_text(), re.MULTILINE)
    if match is None:
        problem(f"{path}: cannot find {what} (update ci/deploy_manifests.py)")
        return None
    return match.group(1)


def psecd_defaults():
    return {
        "socket": source_value(
            "service/src/config.rs",
            r'fn default_socket_path\(\) -> PathBuf \{\s*PathBuf::from\("([^"]+)"\)',
            "psecd's default socket path",
        ),
        "client socket": source_value(
            "client/src/endpoint.rs",
            r'pub const DEFAULT_SOCKET_PATH: &str = "([^"]+)"',
            "the client's default socket path",
        ),
        "unit socket": source_value(
            "service/systemd/psec.socket", r"^ListenStream=(\S+)$", "ListenStream"
        ),
        "state dir": source_value(
            "service/systemd/psec.service", r"^WorkingDirectory=(\S+)$", "WorkingDirectory"
        ),
        "sqlite": source_value(
            "service/src/config.rs",
            r'pub const DEFAULT_SQLITE_PATH: &str =\s*"([^"]+)"',
            "DEFAULT_SQLITE_PATH",
        ),
    }


def load(manifest_dir):
    """Every document of every .yaml file, with the file it came from."""
    docs = []
    files = sorted(Path(manifest_dir).glob("*.yaml"))
    if not files:
        problem(f"{manifest_dir}: no .yaml manifests")
    for file in files:
        try:
            for doc in yaml.safe_load_all(file.read_text()):
                if doc is not None:
                    docs.append((file.name, doc))
        except yaml.YAMLError as error:
            problem(f"{file.name}: not YAML: {error}")
    return docs


def validate_schemas(docs):
    before = len(problems)
    for version in KUBERNETES_VERSIONS:
        for file, doc in docs:
            name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            try:
                kv.validate(doc, version, strict=True)
            except kv.ValidationError as error:
                at = ".".join(str(p) for p in error.path)
                problem(f"{file}: {name}: Kubernetes {version}: {at}: {error.message}")
            except (kv.SchemaNotFoundError, kv.VersionNotSupportedError) as error:
                problem(f"{file}: {name}: Kubernetes {version}: {error.message}")
    if len(problems) == before:
        print(f"schemas: {len(docs)} objects valid for Kubernetes "
              f"{', '.join(KUBERNETES_VERSIONS)} (strict)")


def pod_spec(doc):
    if doc.get("kind") == "Pod":
        return doc.get("spec", {})
    return doc.get("spec", {}).get("template", {}).get("spec", {})


def mounted(container, spec, path):
    """Where `path` inside `container` comes from: (mount, volume, the rest
    of the path below the mount point), by the longest mount point that
    holds it; None if no volume does."""
    best = None
    for mount in container.get("volumeMounts", []):
        point = mount["mountPath"].rstrip("/") or "/"
        if path == point or path.startswith(point + "/"):
            if best is None or len(point) > len(best[0]["mountPath"]):
                best = (mount, posixpath.relpath(path, point))
    if best is None:
        return None
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mount, rest = best
    return mount, volumes.get(mount["name"], {}), rest


def host_path(container, spec, path, what, writable):
    """The node's path for `path` in `container`, which must be on a
    hostPath volume (read-only unless `writable`); None (a problem) if not."""
    found = mounted(container, spec, path)
    name = container.get("name")
    if found is None:
        problem(f"container {name}: {what} {path} is on no volume (no mountPath holds it)")
        return None
    mount, volume, rest = found
    if "hostPath" not in volume:
        problem(f"container {name}: {what} {path} is on volume {mount['name']}, "
                "which is not a hostPath")
        return None
    read_only = bool(mount.get("readOnly", False))
    if writable and read_only:
        problem(f"container {name}: {what} {path} is on a read-only mount")
    if not writable and not read_only:
        problem(f"container {name}: {what} {path} should be mounted readOnly")
    return posixpath.normpath(posixpath.join(volume["hostPath"]["path"], rest))


def socket_of(endpoint):
    """The path of a unix: endpoint URI (unix:/p or unix:///p) or plain path."""
    if endpoint.startswith("unix://"):
        return endpoint[len("unix://"):]
    if endpoint.startswith("unix:"):
        return endpoint[len("unix:"):]
    return endpoint


def check_daemonset(docs, defaults, uid):
    """Checks psecd's DaemonSet and ConfigMap; returns what the workload
    checks and the start-up test need."""
    daemonsets = [doc for _, doc in docs if doc.get("kind") == "DaemonSet"]
    if len(daemonsets) != 1:
        problem(f"expected one DaemonSet (psecd), found {len(daemonsets)}")
        return None
    ds = daemonsets[0]
    spec = pod_spec(ds)
    psecd = next((c for c in spec.get("containers", []) if c.get("name") == "psecd"), None)
    if psecd is None:
        problem("DaemonSet: no container named psecd")
        return None

    # The configuration file: --config PATH, from the ConfigMap in the manifests.
    argv = psecd.get("command", []) + psecd.get("args", [])
    if "--config" not in argv[:-1]:
        problem(f"container psecd: no --config PATH in {argv}")
        return None
    config_path = argv[argv.index("--config") + 1]
    found = mounted(psecd, spec, config_path)
    if found is None or "configMap" not in found[1]:
        problem(f"container psecd: --config {config_path} is not on a configMap volume")
        return None
    _, volume, rest = found
    items = {i["path"]: i["key"] for i in volume["configMap"].get("items", [])}
    key = items.get(rest, rest if not items else None)
    maps = {doc["metadata"]["name"]: doc for _, doc in docs if doc.get("kind") == "ConfigMap"}
    config_map = maps.get(volume["configMap"]["name"])
    if config_map is None or key not in config_map.get("data", {}):
        problem(f"container psecd: --config {config_path}: ConfigMap "
                f"{volume['configMap']['name']} with key {key} is not in the manifests")
        return None
    config_text = config_map["data"][key]
    try:
        config = tomllib.loads(config_text)
    except tomllib.TOMLDecodeError as error:
        problem(f"ConfigMap {config_map['metadata']['name']}: config.toml is not TOML: {error}")
        return None

    # The socket: psecd's default, psec-client's default and the unit's.
    socket = config.get("listener", {}).get("socket_path", defaults["socket"])
    for what in ("socket", "client socket", "unit socket"):
        if defaults[what] is not None and socket != defaults[what]:
            problem(f"config.toml: socket_path {socket} is not the {what} default "
                    f"{defaults[what]}")
    node_socket = host_path(psecd, spec, socket, "socket_path", writable=True)

    # The key store: working directory (Mbed Crypto key files) and SQLite.
    core = config.get("core_settings", {})
    workdir = core.get("working_directory")
    if workdir is None:
        problem("config.toml: no working_directory: Mbed Crypto key files would land in /")
    elif workdir != defaults["state dir"]:
        problem(f"config.toml: working_directory {workdir} is not the units' "
                f"WorkingDirectory {defaults['state dir']}")
    store_paths = [] if workdir is None else [("working_directory", workdir)]
    for manager in config.get("key_manager", []):
        if manager.get("manager_type") == "SQLite":
            path = manager.get("sqlite_db_path", defaults["sqlite"])
            if path != defaults["sqlite"]:
                problem(f"config.toml: sqlite_db_path {path} is not psecd's default "
                        f"{defaults['sqlite']}")
            store_paths.append(("sqlite_db_path", path))
    if not any(what == "sqlite_db_path" for what, _ in store_paths):
        problem("config.toml: no SQLite key manager")
    for what, path in store_paths:
        host_path(psecd, spec, path, what, writable=True)
        found = mounted(psecd, spec, path)
        if found and found[1].get("hostPath", {}).get("type") not in ("Directory", "DirectoryOrCreate"):
            problem(f"volume {found[0]['name']} ({what}): hostPath type should be "
                    "DirectoryOrCreate or Directory")

    # The SPIRE agent: workload_endpoint on a read-only hostPath.
    authenticators = config.get("authenticator", [])
    if isinstance(authenticators, dict):
        authenticators = [authenticators]
    jwt = [a for a in authenticators if a.get("auth_type") == "JwtSvid"]
    node_agent = None
    if not jwt or "workload_endpoint" not in jwt[0]:
        problem("config.toml: no JwtSvid authenticator with a workload_endpoint")
    else:
        endpoint = jwt[0]["workload_endpoint"]
        if not endpoint.startswith("unix://"):
            problem(f"config.toml: workload_endpoint {endpoint} is not a unix:// URI")
        else:
            node_agent = host_path(psecd, spec, socket_of(endpoint), "workload_endpoint",
                                   writable=False)

    # The probes: psec ping on that socket.
    for probe in ("livenessProbe", "readinessProbe"):
        command = psecd.get(probe, {}).get("exec", {}).get("command")
        if not command:
            problem(f"container psecd: no {probe} exec command")
            continue
        if posixpath.basename(command[0]) != "psec" or "ping" not in command:
            problem(f"container psecd: {probe} {command} is not `psec ... ping`")
        if "--endpoint" in command[:-1]:
            probed = socket_of(command[command.index("--endpoint") + 1])
        else:
            probed = defaults["client socket"]
        if probed != socket:
            problem(f"container psecd: {probe} pings {probed}, psecd listens on {socket}")

    # Who psecd runs as, and the hardening.
    pod_security = spec.get("securityContext", {})
    security = {**pod_security, **psecd.get("securityContext", {})}
    if security.get("runAsNonRoot") is not True:
        problem("container psecd: runAsNonRoot is not true")
    for field in ("runAsUser", "runAsGroup"):
        if security.get(field) != uid:
            problem(f"container psecd: {field} {security.get(field)} is not the image's "
                    f"parsec uid {uid} (Containerfile PARSEC_UID)")
    if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problem("container psecd: seccompProfile is not RuntimeDefault")
    if security.get("allowPrivilegeEscalation") is not False:
        problem("container psecd: allowPrivilegeEscalation is not false")
    if security.get("readOnlyRootFilesystem") is not True:
        problem("container psecd: readOnlyRootFilesystem is not true")
    if security.get("privileged"):
        problem("container psecd: privileged")
    capabilities = security.get("capabilities", {})
    if "ALL" not in capabilities.get("drop", []) or capabilities.get("add"):
        problem("container psecd: capabilities must drop ALL and add none")
    resources = psecd.get("resources", {})
    if not resources.get("requests") or not resources.get("limits"):
        problem("container psecd: resources need requests and limits")

    # The init container that hands the host directories to parsec.
    for init in spec.get("initContainers", []):
        if f"{uid}:{uid}" not in " ".join(init.get("command", []) + init.get("args", [])):
            problem(f"init container {init.get('name')}: does not chown to {uid}:{uid}")

    strategy = ds.get("spec", {}).get("updateStrategy", {})
    if strategy.get("type") != "RollingUpdate" or \
            strategy.get("rollingUpdate", {}).get("maxUnavailable") != 1:
        problem("DaemonSet: updateStrategy is not RollingUpdate with maxUnavailable 1")

    return {
        "config text": config_text,
        "config": config,
        "socket": socket,
        "node socket": node_socket,
        "node agent": node_agent,
        "probe": psecd.get("readinessProbe", {}).get("exec", {}).get("command"),
    }


def check_workloads(docs, psecd):
    """Every other pod that mounts psecd's socket must reach it where its
    client looks; a spiffe-helper must reach the agent psecd trusts and
    fetch tokens for audience parsec, where psec reads them."""
    maps = {(doc["metadata"].get("namespace"), doc["metadata"]["name"]): doc
            for _, doc in docs if doc.get("kind") == "ConfigMap"}
    checked = 0
    for _, doc in docs:
        if doc.get("kind") not in ("Pod", "Deployment", "StatefulSet", "Job"):
            continue
        spec = pod_spec(doc)
        namespace = doc["metadata"].get("namespace")
        svid_files = {}
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            helper = helper_config(container, spec, maps, namespace)
            if helper is not None:
                checked += 1
                agent = re.search(r'^\s*agent_address\s*=\s*"([^"]+)"', helper, re.M)
                cert_dir = re.search(r'^\s*cert_dir\s*=\s*"([^"]+)"', helper, re.M)
                audience = re.search(r'jwt_audience\s*=\s*"([^"]+)"', helper)
                name = re.search(r'jwt_svid_file_name\s*=\s*"([^"]+)"', helper)
                if not (agent and cert_dir and audience and name):
                    problem(f"container {container['name']}: helper.conf lacks agent_address, "
                            "cert_dir, jwt_audience or jwt_svid_file_name")
                    continue
                if audience.group(1) != "parsec":
                    problem(f"container {container['name']}: jwt_audience "
                            f"{audience.group(1)}: psecd accepts audience parsec only")
                node = host_path(container, spec, socket_of(agent.group(1)), "agent_address",
                                 writable=False)
                if None not in (node, psecd["node agent"]) and node != psecd["node agent"]:
                    problem(f"container {container['name']}: agent_address is {node} on the "
                            f"node, psecd's workload_endpoint is {psecd['node agent']}")
                token = posixpath.join(cert_dir.group(1), name.group(1))
                found = mounted(container, spec, token)
                if found:
                    svid_files[found[0]["name"]] = found[2]
            if "PARSEC_SERVICE_ENDPOINT" in env or "PSEC_JWT_SVID_FILE" in env:
                checked += 1
                endpoint = socket_of(env.get("PARSEC_SERVICE_ENDPOINT") or
                                     psecd["socket"])
                node = host_path(container, spec, endpoint, "PARSEC_SERVICE_ENDPOINT",
                                 writable=False)
                if None not in (node, psecd["node socket"]) and node != psecd["node socket"]:
                    problem(f"container {container['name']}: psecd's socket is "
                            f"{psecd['node socket']} on the node, this container reaches {node}")
                token = env.get("PSEC_JWT_SVID_FILE")
                if token is not None:
                    found = mounted(container, spec, token)
                    if found is None or svid_files.get(found[0]["name"]) != found[2]:
                        problem(f"container {container['name']}: PSEC_JWT_SVID_FILE {token} "
                                "is not the file the spiffe-helper container writes")
    print(f"workloads: {checked} containers checked against psecd's socket and agent")


def helper_config(container, spec, maps, namespace):
    """The helper.conf of a spiffe-helper container (`-config PATH` on a
    configMap volume), or None."""
    argv = container.get("command", []) + container.get("args", [])
    if "-config" not in argv[:-1]:
        return None
    found = mounted(container, spec, argv[argv.index("-config") + 1])
    if found is None or "configMap" not in found[1]:
        problem(f"container {container['name']}: -config is not on a configMap volume")
        return None
    config_map = maps.get((namespace, found[1]["configMap"]["name"]))
    if config_map is None or found[2] not in config_map.get("data", {}):
        problem(f"container {container['name']}: its helper.conf is not in the manifests")
        return None
    return config_map["data"][found[2]]


def start_psecd(psecd_bin, psec_bin, psecd, uid):
    """Starts psecd on the ConfigMap's config.toml with its paths moved into
    a temporary directory, as `uid`, and runs the probe's command on it."""
    config = psecd["config"]
    for binary in (psecd_bin, psec_bin):
        if not os.access(binary, os.X_OK):
            problem(f"{binary}: no such program (build psecd and psec first)")
            return
    with tempfile.TemporaryDirectory(prefix="psec-deploy-") as tmp:
        os.chmod(tmp, 0o755)
        moved = {}
        text = psecd["config text"]

        def move(key, value, new):
            nonlocal text
            line = re.compile(rf'^({re.escape(key)}\s*=\s*)"{re.escape(value)}"\s*$', re.M)
            text, count = line.subn(lambda m: f'{m.group(1)}"{new}"', text)
            if count != 1:
                problem(f"config.toml: {key} = \"{value}\" is not on a line of its own")
            moved[value] = new

        # Each path moves below the temporary directory, as into a chroot.
        move("socket_path", psecd["socket"], f"{tmp}{psecd['socket']}")
        workdir = config["core_settings"]["working_directory"]
        move("working_directory", workdir, f"{tmp}{workdir}")
        for manager in config.get("key_manager", []):
            if "sqlite_db_path" in manager:
                path = manager["sqlite_db_path"]
                move("sqlite_db_path", path, f"{tmp}{path}")
        authenticators = config["authenticator"]
        for auth in authenticators if isinstance(authenticators, list) else [authenticators]:
            if "workload_endpoint" in auth:
                endpoint = auth["workload_endpoint"]
                move("workload_endpoint", endpoint, f"unix://{tmp}{socket_of(endpoint)}")
        if problems:
            return
        # Nothing else changed: the parsed files differ in those values only.
        def restore(value):
            if isinstance(value, dict):
                return {k: restore(v) for k, v in value.items()}
            if isinstance(value, list):
                return [restore(v) for v in value]
            return next((old for old, new in moved.items() if value == new), value)
        if restore(tomllib.loads(text)) != config:
            problem("config.toml: moving the paths changed more than the paths")
            return
        (Path(tmp) / "config.toml").write_text(text)
        bin_dir = Path(tmp) / "bin"
        bin_dir.mkdir()
        for binary in (psecd_bin, psec_bin):
            shutil.copy(binary, bin_dir)
        as_uid = []
        if os.geteuid() == 0:
            # As the image's parsec: psecd refuses root, as it should.
            for path in (tmp, bin_dir):
                os.chown(path, uid, uid)
            as_uid = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        log = open(Path(tmp) / "psecd.log", "w+")
        process = subprocess.Popen(
            as_uid + [str(bin_dir / "psecd"), "--config", f"{tmp}/config.toml"],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            socket = Path(f"{tmp}{psecd['socket']}")
            while not socket.is_socket():
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    problem("psecd did not start on the ConfigMap's config.toml:\n" + log.read())
                    return
                time.sleep(0.05)
            probe = [str(bin_dir / "psec") if posixpath.basename(psecd["probe"][0]) == "psec"
                     else psecd["probe"][0]]
            probe += [f"unix:{socket}" if socket_of(arg) == psecd["socket"] else arg
                      for arg in psecd["probe"][1:]]
            answer = subprocess.run(as_uid + probe, capture_output=True, text=True, timeout=30)
            if answer.returncode != 0:
                problem(f"the probe {probe} failed ({answer.returncode}): {answer.stderr}")
            else:
                print(f"psecd started on the ConfigMap's config.toml; probe: {answer.stdout.strip()}")
            state = Path(f"{tmp}{workdir}")
            if as_uid and state.stat().st_uid != uid:
                problem(f"psecd did not run as uid {uid}: {workdir} belongs to {state.stat().st_uid}")
            for manager in config.get("key_manager", []):
                store = Path(f"{tmp}{manager.get('sqlite_db_path', '')}")
                if "sqlite_db_path" in manager and not store.is_file():
                    problem(f"psecd made no SQLite key store at {manager['sqlite_db_path']}")
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
                problem("psecd did not stop within 10 s of SIGTERM")
            if code != 0 and not problems:
                log.seek(0)
                problem(f"psecd exited with {code}:\n{log.read()}")
            log.close()


def prune_schemas():
    """Deletes the installed schemas of the Kubernetes versions not checked."""
    schemas = Path(kv.__file__).parent / "kubernetes-json-schema"
    keep = {f"v{version}-local-strict" for version in KUBERNETES_VERSIONS}
    for path in schemas.iterdir():
        if path.is_dir() and path.name.startswith("v") and path.name not in keep:
            shutil.rmtree(path)
    print(f"kept the schemas of {', '.join(sorted(keep))}")


def main():
    if sys.argv[1:] == ["--prune-schemas"]:
        prune_schemas()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--psecd", required=True)
    parser.add_argument("--psec", required=True)
    parser.add_argument("manifests")
    args = parser.parse_args()

    docs = load(args.manifests)
    validate_schemas(docs)
    defaults = psecd_defaults()
    # An absolute path: ROOT / it is itself.
    uid = source_value(Path(args.manifests).resolve() / "Containerfile",
                       r"^ARG PARSEC_UID=(\d+)$", "ARG PARSEC_UID")
    uid = int(uid) if uid else None
    psecd = check_daemonset(docs, defaults, uid) if docs else None
    if psecd is not None:
        check_workloads(docs, psecd)
    if not problems and psecd is not None:
        start_psecd(args.psecd, args.psec, psecd, uid)
    if problems:
        print(f"{len(problems)} problem(s) in {args.manifests}:", file=sys.stderr)
        for text in problems:
            print(f"  - {text}", file=sys.stderr)
        return 1
    print(f"{args.manifests}: valid, consistent with psecd, and psecd starts on its config.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
