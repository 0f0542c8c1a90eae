#!/usr/bin/env bash
# The Debian package: builds it with the pinned cargo-deb, installs it on
# this machine, checks what it installed (binaries, units, the parsec user,
# the tmpfiles.d entry), runs the installed psecd as parsec on a socket in a
# temporary directory and signs through it with the installed psec, then
# removes and purges it and checks nothing is left but the parsec user.
# Needs root and Debian. Replaces an installed psec package, if any.
# `ci/deb.sh --build-only` only builds the .deb (as a packager would).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start=$SECONDS

step "cargo-deb"
install_tool cargo-deb 3.8.0 cargo-deb

step "build the package"
# One build of both binaries; psec then writes its own man pages and
# completions (psecd's page, section 8, is written by hand in
# service/man/), all man pages gzipped as Debian wants them, generated each time so they can
# not go stale, and cargo-deb packs what is built (--no-build) with
# service/Cargo.toml's [package.metadata.deb]. As a packager's builder does
# it: the sources fetched first, then the release build with no network
# (in a network namespace with no interface, where this machine allows it),
# so a build script that reaches for the network fails here.
run cargo fetch --locked
offline cargo build --release --locked --offline -p psec-service -p psec-tool
assets=target/release/deb-assets
rm -rf "$assets"
mkdir -p "$assets/completions"
run target/release/psec man --out-dir "$assets/man"
run cp service/man/psecd.8 "$assets/man/"
printf '+ gzip -9n %s/man/*.[18]\n' "$assets"
gzip -9n "$assets"/man/*.[18]
for script in bash:psec.bash zsh:_psec fish:psec.fish; do
    printf '+ target/release/psec completions %s >%s\n' "${script%%:*}" "$assets/completions/${script#*:}"
    target/release/psec completions "${script%%:*}" >"$assets/completions/${script#*:}"
done
printf '+ cargo deb -p psec-service --no-build --locked\n'
# cargo-deb prints the path of the .deb last on standard output.
deb="$(cargo deb -p psec-service --no-build --locked | tail -n 1)"
echo "built $deb"
[ "${1:-}" = --build-only ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "installing the package needs root" >&2
    exit 1
fi
# Every file of the package; each must be there once installed, and gone
# once purged.
installed=(
    /usr/bin/psecd /usr/bin/psec
    /usr/lib/systemd/system/psec.service /usr/lib/systemd/system/psec.socket
    /usr/lib/sysusers.d/psec.conf /usr/lib/tmpfiles.d/psec.conf
    /etc/parsec/config.toml
    /usr/share/man/man1/psec.1.gz /usr/share/man/man1/psec-sign.1.gz
    /usr/share/man/man8/psecd.8.gz
    /usr/share/bash-completion/completions/psec
    /usr/share/zsh/vendor-completions/_psec
    /usr/share/fish/vendor_completions.d/psec.fish
    /usr/share/doc/psec/README.md /usr/share/doc/psec/copyright
)

step "install $deb"
if dpkg-query -W -f='${Status}' psec 2>/dev/null | grep -q "install ok installed"; then
    echo "psec $(dpkg-query -W -f='${Version}' psec) is installed: it is replaced, then purged at the end"
fi
if ! run dpkg -i "$deb"; then
    # dpkg leaves it unconfigured when a dependency is missing.
    DEBIAN_FRONTEND=noninteractive run apt-get install -f -y -qq --no-install-recommends
fi
for file in "${installed[@]}"; do
    [ -e "$file" ] || { echo "missing after install: $file" >&2; exit 1; }
done
echo "all ${#installed[@]} files are in place"
dpkg-query -W -f='${Conffiles}\n' psec | grep -q '^ /etc/parsec/config.toml ' || {
    echo "/etc/parsec/config.toml is not a conffile" >&2
    exit 1
}
echo "/etc/parsec/config.toml is a conffile, $(stat -c '%U:%G %a' /etc/parsec/config.toml)"
echo "depends: $(dpkg-query -W -f='${Depends}' psec)"
# psecd linked with packed relative relocations (service/build.rs) needs
# glibc 2.36's loader; dpkg-shlibdeps does not see it, the package must say it.
if readelf -d /usr/bin/psecd | grep -q '(RELR)'; then
    dpkg-query -W -f='${Depends}' psec | grep -qF 'libc6 (>= 2.36)' || {
        echo "psecd has DT_RELR relocations (glibc 2.36) and the package does not depend on libc6 (>= 2.36)" >&2
        exit 1
    }
    echo "psecd uses DT_RELR; the package depends on libc6 (>= 2.36)"
fi

step "installed binaries"
run /usr/bin/psecd --version
run /usr/bin/psec --version

step "installed units"
# verify needs no running systemd; it prints problems, and warnings fail too.
printf '+ systemd-analyze verify psec.socket psec.service\n'
output="$(systemd-analyze verify /usr/lib/systemd/system/psec.socket /usr/lib/systemd/system/psec.service 2>&1)" || {
    echo "$output"
    exit 1
}
if [ -n "$output" ]; then
    echo "$output"
    echo "systemd-analyze reported problems" >&2
    exit 1
fi
echo "psec.socket and psec.service verify cleanly"

step "the parsec user (sysusers.d)"
run getent passwd parsec
run getent group parsec

work="$(mktemp -d)"
psecd_pid=
cleanup() {
    if [ -n "$psecd_pid" ]; then
        kill "$psecd_pid" 2>/dev/null || true
        wait "$psecd_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

step "the tmpfiles.d entry, applied in $work/root"
# In a root of its own, so the real /run/parsec and /var/lib/parsec are left
# alone; users are looked up in that root's /etc.
mkdir -p "$work/root/etc" "$work/root/usr/lib/tmpfiles.d"
cp /etc/passwd /etc/group "$work/root/etc/"
cp /usr/lib/tmpfiles.d/psec.conf "$work/root/usr/lib/tmpfiles.d/"
run systemd-tmpfiles --root="$work/root" --create psec.conf
for dir in /run/parsec /var/lib/parsec; do
    echo "$dir: $(stat -c '%U:%G %a' "$work/root$dir")"
done
if [ "$(stat -c '%U:%G %a' "$work/root/run/parsec")" != "parsec:parsec 755" ] ||
    [ "$(stat -c '%U:%G %a' "$work/root/var/lib/parsec")" != "parsec:parsec 700" ]; then
    echo "expected /run/parsec parsec:parsec 755 and /var/lib/parsec parsec:parsec 700" >&2
    exit 1
fi

test="$work/psecd"
step "the installed psecd as parsec, on a socket in $test"
# The installed configuration with its paths moved under $test: the real
# service's socket and keys are never touched.
mkdir -p "$test/run" "$test/state"
sed -e "s|/run/parsec|$test/run|g" -e "s|/var/lib/parsec|$test/state|g" \
    /etc/parsec/config.toml >"$test/config.toml"
moved="$(grep -cE "^(socket_path|working_directory|sqlite_db_path) = \"$test/" "$test/config.toml")"
[ "$moved" -eq 3 ] || { echo "expected 3 paths moved in the test config, found $moved" >&2; exit 1; }
if grep -E '^[^#]*"(/run/parsec|/var/lib/parsec)' "$test/config.toml"; then
    echo "the test config still names a real path" >&2
    exit 1
fi
chown -R parsec:parsec "$test"
chmod 755 "$work"
printf '+ setpriv --reuid=parsec --regid=parsec --init-groups /usr/bin/psecd --config %s &\n' "$test/config.toml"
setpriv --reuid=parsec --regid=parsec --init-groups /usr/bin/psecd --config "$test/config.toml" &
psecd_pid=$!
wait_for_socket "$test/run/parsec.sock" "$psecd_pid" "the installed psecd"
echo "psecd (PID $psecd_pid, user $(ps -o user= -p "$psecd_pid")) listens on $test/run/parsec.sock"
export PARSEC_SERVICE_ENDPOINT="unix:$test/run/parsec.sock"
run /usr/bin/psec ping
run /usr/bin/psec create-ecc-key -k deb-check --curve p256
printf '+ psec sign -k deb-check "signed by the packaged psecd"\n'
signature="$(/usr/bin/psec sign -k deb-check "signed by the packaged psecd")"
echo "$signature"
run /usr/bin/psec verify -k deb-check -s "$signature" "signed by the packaged psecd"
run /usr/bin/psec delete-key -k deb-check
# The key store went where the test config says.
run ls "$test/state/kim-mappings/sqlite"
run kill -TERM "$psecd_pid"
wait "$psecd_pid"
psecd_pid=
echo "psecd stopped cleanly"

step "remove, then purge"
run dpkg --remove psec
if [ -e /usr/bin/psecd ] || [ ! -e /etc/parsec/config.toml ]; then
    echo "remove should take the binaries and keep the conffile" >&2
    exit 1
fi
echo "removed: binaries gone, /etc/parsec/config.toml kept"
run dpkg --purge psec
for file in "${installed[@]}"; do
    [ ! -e "$file" ] || { echo "left after purge: $file" >&2; exit 1; }
done
[ ! -e /etc/parsec ] || { echo "/etc/parsec is left after purge" >&2; exit 1; }
if dpkg-statoverride --list /etc/parsec/config.toml; then
    echo "the statoverride of /etc/parsec/config.toml is left after purge" >&2
    exit 1
fi
status="$(dpkg-query -W -f='${Status}' psec 2>/dev/null || true)"
case "$status" in
    "" | *not-installed) ;;
    *) echo "dpkg still lists psec: $status" >&2; exit 1 ;;
esac
echo "purged: all ${#installed[@]} files and /etc/parsec are gone; the parsec user stays, as Debian leaves system users"

step "the Debian package passed in $((SECONDS - start))s"
