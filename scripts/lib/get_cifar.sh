# Sourced by scripts/get-cifar10.sh and scripts/get-cifar100.sh: the one procedure both releases
# share, so the two scripts differ only in their file names, sizes, address and checksum.
#   get_cifar SCRIPT NAME DIR PREPARE URL MD5 FILE:SIZE...
# 1. DIR already holds every FILE at its SIZE → nothing to do;
# 2. else, when PREPARE (the bundled copy's script beside the checkout) exists → it writes DIR;
# 3. else → downloads URL, checks its MD5 (a mismatch deletes the file and fails), and unpacks the
#    tarball's one top folder straight into DIR.
# Then every FILE must be there at its SIZE, else it fails naming what it expected.
get_cifar() {
  local script=$1 name=$2 dir=$3 prepare=$4 url=$5 md5=$6
  shift 6
  local specs=("$@")
  complete() {
    local s
    for s in "${specs[@]}"; do
      [ -f "$dir/${s%%:*}" ] && [ "$(stat -c %s "$dir/${s%%:*}")" = "${s##*:}" ] || return 1
    done
  }
  if complete; then
    echo "$name already at $dir"
    return 0
  fi
  if [ -f "$prepare" ]; then
    # It unpacks 60,000 small JPEGs into a temp dir (mktemp): on a disk that is ~30 s of file
    # creation, in RAM (tmpfs) under a second. Use /dev/shm unless TMPDIR is chosen already.
    if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
       [ "$(df --output=avail -k /dev/shm | tail -1)" -gt 500000 ]; then
      export TMPDIR=/dev/shm
    fi
    bash "$prepare" "$dir"
  else
    mkdir -p "$dir"
    local tarball="$dir/$(basename "$url")"
    echo "Downloading $url"
    if command -v curl >/dev/null; then
      curl -fL --retry 3 -o "$tarball" "$url"
    elif command -v wget >/dev/null; then
      wget -O "$tarball" "$url"
    else
      echo "$script: neither curl nor wget is installed" >&2
      return 1
    fi
    local got
    got=$(md5sum "$tarball" | cut -d' ' -f1)
    if [ "$got" != "$md5" ]; then
      rm -f "$tarball"
      echo "$script: $url: MD5 $got, expected $md5 (corrupt or changed download; deleted)" >&2
      return 1
    fi
    tar xzf "$tarball" -C "$dir" --strip-components=1
    rm -f "$tarball"
  fi
  if ! complete; then
    local want="" s
    for s in "${specs[@]}"; do want+=" ${s%%:*} (${s##*:} bytes)"; done
    echo "$script: $dir is still incomplete: expected$want" >&2
    return 1
  fi
  echo "$name ready at $dir"
}
