# The VM kernel, shared by the VM test drivers (.ci/powercut sources this; so
# can .ci/vmtest). Source it from the repository root, then:
#
#   vm_packages PKG...   install those of PKG... that are missing (apt-get)
#   vm_kernel            build or reuse the kernel; sets VM_KERNEL to its bzImage
#
# The kernel is `make tinyconfig` of Debian's linux-source-6.1 with
# .ci/vm/kernel.config merged over it, kept under
# $PINTU_VM_CACHE/<key>/bzImage (/var/cache/pintu-vm), where <key> hashes the
# fragment and the source version: the same key and the same lock as
# .ci/vmtest's, so both use one build.

# What vm_kernel needs installed.
VM_KERNEL_PACKAGES=(linux-source-6.1 flex bison bc libelf-dev libssl-dev)

vm_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

vm_kernel() {
  local cache=${PINTU_VM_CACHE:-/var/cache/pintu-vm} srcver key kdir build src line t=$SECONDS
  srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
  key=$(cat .ci/vm/kernel.config <(echo "linux-source-6.1 $srcver") | sha256sum | cut -c1-16)
  kdir=$cache/$key
  VM_KERNEL=$kdir/bzImage
  # A built kernel is moved into place whole: no lock needed to use it.
  [ -s "$VM_KERNEL" ] && return 0
  mkdir -p "$cache"
  # Another run building a kernel holds the lock; wait for it, bounded.
  exec 9>"$cache/lock"
  flock -w 900 9 || { echo "vm_kernel: $cache/lock held for 15 minutes" >&2; return 1; }
  if [ -s "$VM_KERNEL" ]; then
    exec 9>&-
    return 0
  fi
  echo "vm_kernel: building $key"
  build=$cache/build-$key
  rm -rf "$build" && mkdir -p "$build"
  tar xf /usr/src/linux-source-6.1.tar.xz -C "$build"
  src=$build/linux-source-6.1
  make -s -C "$src" tinyconfig >/dev/null
  (cd "$src" && ./scripts/kconfig/merge_config.sh -m .config "$OLDPWD/.ci/vm/kernel.config" >/dev/null)
  make -s -C "$src" olddefconfig >/dev/null
  # An option whose dependencies are missing is dropped silently: fail here.
  while IFS= read -r line; do
    case $line in CONFIG_*=*) ;; *) continue ;; esac
    grep -qxF "$line" "$src/.config" || { echo "vm_kernel: kernel config lost $line" >&2; exec 9>&-; return 1; }
  done < .ci/vm/kernel.config
  make -s -C "$src" -j"$(nproc)" bzImage
  mkdir -p "$kdir"
  cp "$src/.config" "$kdir/config"
  cp "$src/arch/x86/boot/bzImage" "$kdir/bzImage.tmp"
  mv "$kdir/bzImage.tmp" "$VM_KERNEL"
  rm -rf "$build"
  exec 9>&-
  echo "vm_kernel: built in $((SECONDS - t))s"
}
