#!/usr/bin/env bash
# Builds faultline's container image from the repo's Dockerfile on this
# machine, with no registry and no Docker daemon, and saves it as an OCI
# archive that `ctr images import` (tests/cluster/load-image.sh) takes.
#
#   1. The base images the Dockerfile's FROM lines name (debian:bookworm and
#      debian:bookworm-slim) are made here from Debian's packages:
#      `debootstrap --variant=minbase`, the slim one with the same dpkg
#      path-excludes as Docker's official -slim image. Each rootfs tarball is
#      cached under ~/.cache/faultline/images/ keyed by its inputs, and the
#      imported image carries that key as a label, so a warm run skips both.
#   2. `buildah bud` (vfs storage, chroot isolation, --pull-never, --layers)
#      builds the Dockerfile as written; its RUN apt-get lines install from
#      Debian's mirror like any docker build.
#   3. `buildah push` writes the OCI archive (layers gzipped; its ref name is
#      the image's full name, docker.io/library/faultline:TAG, which ctr
#      import keeps and the kubelet asks for when a pod says faultline:TAG).
#
# buildah's storage lives in the cache too (not /var/lib/containers), so
# nothing else on the machine sees or disturbs it.
#
# usage: scripts/image.sh [--tag T] [--output FILE] [--jobs N] [--refresh-base] [--prune]
#                         [--load-into STATE]
#   --tag T          image tag (default: what manifests/ use, 0.1.0)
#   --output FILE    archive to write (default: build/image/faultline-T.oci.tar)
#   --jobs N         compile jobs inside the build (default: 2)
#   --refresh-base   debootstrap again even if a cached rootfs exists (the
#                    mirror moves on: security updates)
#   --prune          afterwards, delete the intermediate images (the layer
#                    cache: the next build starts from apt-get again)
#   --load-into DIR  then import the archive into every real node of the
#                    local cluster whose state is DIR (tests/cluster/load-image.sh)
# Environment: FAULTLINE_IMAGE_CACHE_MAX_GB (default 8): when buildah's
# storage has grown past it, the untagged images are pruned before building.
# Prints the timings, the image size and what the image holds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag=0.1.0
output=
jobs=2
refresh=0
prune=0
load_into=
while (($#)); do
  case $1 in
    --tag) tag=$2; shift 2 ;;
    --output) output=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --refresh-base) refresh=1; shift ;;
    --prune) prune=1; shift ;;
    --load-into) load_into=$2; shift 2 ;;
    -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
    *) echo "image.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
output=${output:-$root/build/image/faultline-$tag.oci.tar}
((EUID == 0)) || { echo "image.sh: debootstrap and buildah's chroot isolation need root" >&2; exit 2; }
for tool in debootstrap buildah; do
  command -v "$tool" >/dev/null || { echo "image.sh: $tool is not installed (apt-get install $tool)" >&2; exit 2; }
done

release=$(sed -n 's/^ARG DEBIAN_RELEASE=//p' "$root/Dockerfile")
[[ -n $release ]] || { echo "image.sh: Dockerfile has no ARG DEBIAN_RELEASE=" >&2; exit 2; }
mirror=${FAULTLINE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${FAULTLINE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
arch=$(dpkg --print-architecture)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/faultline/images
mkdir -p "$cache" "$(dirname "$output")"
bah=(buildah --storage-driver vfs --root "$cache/storage" --runroot /run/faultline-buildah)

t_start=$SECONDS
log() { printf 'image.sh: [%4ds] %s\n' $((SECONDS - t_start)) "$*" >&2; }

# The build context's key: every file buildah would copy (git's view of the
# tree, less the .dockerignore'd folders), with its content, plus this
# script and the tag. An archive written from the same key is the same
# image: a warm run (make test, nothing changed) stops here in seconds.
# Without git (a tarball of the source) there is no key and no shortcut.
context_key() {
  local prefixes
  prefixes=$(sed -e 's/#.*//' -e 's#^/##' -e '/^[[:space:]]*$/d' -e '/\*/d' "$root/.dockerignore")
  git -C "$root" ls-files -z -co --exclude-standard 2>/dev/null |
    while IFS= read -r -d '' f; do
      skip=0
      while read -r p; do [[ $f == "$p" || $f == "$p"/* ]] && { skip=1; break; }; done <<<"$prefixes"
      ((skip)) || [[ ! -f $root/$f ]] || printf '%s\0' "$f"
    done | (cd "$root" && xargs -0 sha256sum) | { cat; echo "$tag"; sha256sum <"$root/scripts/image.sh"; } | sha256sum | cut -c1-16
}
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  ckey=$(context_key)
  if ((!refresh)) && [[ -f $output && $(cat "$output.key" 2>/dev/null) == "$ckey" ]]; then
    log "$(basename "$output"): up to date (build context $ckey); --refresh-base rebuilds"
    if [[ -n $load_into ]]; then "$root/tests/cluster/load-image.sh" --state "$load_into" "$output"; fi
    exit 0
  fi
fi

# What Docker's official debian:*-slim images exclude from every package
# (docker-library/debian's dpkg config): docs, man pages, locales.
slim_excludes='path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias'

# The key of a rootfs: everything that decides its content except the mirror's
# state on the day (--refresh-base for that). This script's recipe is part of
# it through the two lines below and the excludes.
rootfs_recipe="debootstrap $(dpkg-query -W -f='${Version}' debootstrap) --variant=minbase $release $arch $mirror $security_mirror v1"

# make_rootfs FULL SLIM: one debootstrap gives both rootfs tarballs: the
# official image's apt sources, no caches, packed with numeric owners (FULL);
# then the slim excludes removed and dpkg told to keep excluding them (SLIM).
make_rootfs() {
  local full=$1 slim=$2 dir
  dir=$(mktemp -d "$cache/rootfs.XXXXXX")
  # Every path below is inside $dir: never let an empty one reach rm.
  [[ -d ${dir:?} && $dir == "$cache"/rootfs.* ]] || { echo "image.sh: bad scratch folder '$dir'" >&2; exit 1; }
  # shellcheck disable=SC2064
  trap "rm -rf '$dir' '$full.tmp' '$slim.tmp'" RETURN
  log "debootstrap --variant=minbase $release from $mirror"
  debootstrap --variant=minbase --arch "$arch" "$release" "$dir" "$mirror" >"$dir.log" 2>&1 ||
    { tail -20 "$dir.log" >&2; echo "image.sh: debootstrap failed (log: $dir.log)" >&2; exit 1; }
  rm -f "$dir.log" "$dir/etc/apt/sources.list"
  printf '%s\n' "Types: deb" "URIs: $mirror" "Suites: $release $release-updates" "Components: main" \
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" "" \
    "Types: deb" "URIs: $security_mirror" "Suites: $release-security" "Components: main" \
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" >"$dir/etc/apt/sources.list.d/debian.sources"
  # A container gets its own hostname and resolv.conf; the build host's must
  # not leak into the image.
  rm -rf "${dir:?}"/var/cache/apt/archives/*.deb "${dir:?}"/var/lib/apt/lists/* "${dir:?}"/var/log/* \
    "${dir:?}/etc/hostname" "${dir:?}/etc/resolv.conf"
  tar --numeric-owner --xattrs -C "$dir" -cf "$full.tmp" .
  printf '%s\n' "$slim_excludes" >"${dir:?}/etc/dpkg/dpkg.cfg.d/docker"
  find "${dir:?}/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "${dir:?}/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "${dir:?}"/usr/share/{man,groff,info,lintian,linda}/*
  find "${dir:?}/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  tar --numeric-owner --xattrs -C "$dir" -cf "$slim.tmp" .
  mv "$full.tmp" "$full"
  mv "$slim.tmp" "$slim"
}

key=$(printf '%s\n%s\n' "$rootfs_recipe" "$slim_excludes" | sha256sum | cut -c1-16)
full_tar=$cache/rootfs-$release-$arch-$key.tar
slim_tar=$cache/rootfs-$release-slim-$arch-$key.tar
made=0
if ((refresh)) || [[ ! -f $full_tar || ! -f $slim_tar ]]; then
  make_rootfs "$full_tar" "$slim_tar"
  made=1
fi

# import TARBALL NAME: NAME in buildah's storage from TARBALL, unless it is
# there already with this key and the tarball was not just remade.
import() {
  local tarball=$1 name=docker.io/library/$2 ctr
  if ((!made)) && [[ $("${bah[@]}" inspect --type image \
    --format '{{index .OCIv1.Config.Labels "faultline.rootfs-key"}}' "$name" 2>/dev/null) == "$key" ]]; then
    log "$2: up to date (rootfs $key)"
    return
  fi
  log "$2: importing $(basename "$tarball") ($(du -m "$tarball" | cut -f1) MiB)"
  ctr=$("${bah[@]}" from --pull-never scratch)
  "${bah[@]}" add "$ctr" "$tarball" / >/dev/null
  "${bah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd bash --label "faultline.rootfs-key=$key" "$ctr"
  "${bah[@]}" commit --rm -q "$ctr" "$name" >/dev/null
}

# Both stages' FROM images: the Dockerfile says debian:${DEBIAN_RELEASE} and
# debian:${DEBIAN_RELEASE}-slim.
import "$full_tar" "debian:$release"
import "$slim_tar" "debian:$release-slim"
t_base=$SECONDS

# vfs stores every layer as a full copy (~1 GB per rebuild of the build
# stage), and each rebuild leaves the previous one's intermediates behind:
# unbounded, the storage reached 21 GB on a developer machine in a day. Past
# the bound, drop the untagged images first; the next build redoes its
# layers once (~5 min cold), and the disk stays bounded.
max_gb=${FAULTLINE_IMAGE_CACHE_MAX_GB:-8}
used_gb=$(( $(du -sm "$cache/storage" 2>/dev/null | cut -f1 || echo 0) / 1024 ))
if ((used_gb >= max_gb)); then
  log "buildah storage holds ${used_gb} GB (bound ${max_gb} GB, FAULTLINE_IMAGE_CACHE_MAX_GB): pruning the untagged images"
  "${bah[@]}" rmi --prune >/dev/null
fi

image=docker.io/library/faultline:$tag
log "buildah bud -t $image (Dockerfile as written, --jobs $jobs)"
"${bah[@]}" bud --isolation chroot --pull-never --layers --force-rm --build-arg "BUILD_JOBS=$jobs" \
  -f "$root/Dockerfile" -t "$image" "$root" >"$cache/bud.log" 2>&1 ||
  { tail -40 "$cache/bud.log" >&2; echo "image.sh: buildah bud failed (log: $cache/bud.log)" >&2; exit 1; }
t_bud=$SECONDS
# The untagged intermediate images are the layer cache of the next build (the
# build stage's apt-get layer above all); --prune drops them to free the disk
# (vfs stores every layer as a full copy).
if ((prune)); then "${bah[@]}" rmi --prune >/dev/null; fi

rm -f "$output" "$output.key"
"${bah[@]}" push -q "$image" "oci-archive:$output:$image" >/dev/null
t_push=$SECONDS

# What the image holds, read from a container of it (nothing runs in it).
ctr=$("${bah[@]}" from --pull-never "$image")
mnt=$("${bah[@]}" mount "$ctr")
check() { if eval "$2"; then echo "  ok    $1"; else echo "  FAIL  $1"; failed=1; fi; }
failed=0
user=$("${bah[@]}" inspect --format '{{.OCIv1.Config.User}}' "$image")
echo "image.sh: $image"
check "runs as non-root ($user)" '[[ -n $user && ${user%%:*} != 0 && ${user%%:*} != root ]]'
check "the CLI /usr/local/bin/faultline" '[[ -x $mnt/usr/local/bin/faultline ]]'
check "no compiler (gcc, g++, cc, c++, clang, ld)" \
  '! ls "$mnt"/usr/bin/{gcc,g++,cc,c++,clang,ld,x86_64-linux-gnu-gcc-12} >/dev/null 2>&1'
check "lua-scripts/ in /etc/faultline/lua-scripts" '[[ -n $(ls "$mnt"/etc/faultline/lua-scripts/*.lua 2>/dev/null) ]]'
check "experiments/ in /etc/faultline/experiments" '[[ -n $(ls "$mnt"/etc/faultline/experiments/*.yaml 2>/dev/null) ]]'
size_fs=$(du -sm "$mnt" | cut -f1)
"${bah[@]}" umount "$ctr" >/dev/null
"${bah[@]}" rm "$ctr" >/dev/null
size_archive=$(($(stat -c %s "$output") / 1024 / 1024))
# The key only for an image that passed its checks: a failed one is rebuilt.
if ((!failed)) && [[ -n ${ckey:-} ]]; then echo "$ckey" >"$output.key"; fi
echo "image.sh: size: ${size_fs} MiB unpacked, archive ${size_archive} MiB ($output)"
echo "image.sh: time: base images $((t_base - t_start)) s, buildah bud $((t_bud - t_base)) s, push $((t_push - t_bud)) s, total $((SECONDS - t_start)) s"
if [[ -n $load_into ]] && ((!failed)); then
  [[ -x $root/tests/cluster/load-image.sh ]] || { echo "image.sh: tests/cluster/load-image.sh is missing (issue 12)" >&2; exit 2; }
  t_load=$SECONDS
  "$root/tests/cluster/load-image.sh" --state "$load_into" "$output"
  echo "image.sh: loaded into $load_into in $((SECONDS - t_load)) s"
fi
exit $failed
