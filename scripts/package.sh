#!/usr/bin/env bash
# Builds a self-contained folder to carry to a GPU machine that has the CUDA driver and toolkit
# but none of our Debian libraries (see docs/gpu-check.md):
#   DIST/bin/              gnnrec, every test program, every bench program, test tools
#   DIST/lib/              every shared library they need except glibc, libstdc++/libgcc_s and
#                          the CUDA libraries (driver, cudart, cuBLAS, cuSPARSE, NCCL, ...)
#   DIST/share/gnnrec/     gpu_check.sh, Python tests, peer benchmarks, profiling scripts,
#                          small datasets (GNNREC_DIST_DATA)
# Every binary and library carries RPATH $ORIGIN/../lib (then /usr/local/cuda/lib64 and lib as
# fallbacks), set at link time as DT_RPATH so it also applies to the libraries' own needs.
# The project libraries are built shared here, so the CUDA kernels are stored once, not once
# per program. Finally checks with ldd that everything resolves inside DIST/lib and prints sizes.
#
# usage: scripts/package.sh [DIST_DIR]        (default: dist)
# env:   CUDA_ARCHS (default "80;90"), GNNREC_CUDA (ON), GNNREC_DIST_BUILD_DIR (build-dist),
#        GNNREC_JOBS (2), GNNREC_DIST_DATA (datasets from $GNNREC_DATA_DIR to include; default
#        the two small Amazon sets; "" for none), GNNREC_DIST_TAR=1 to also write DIST.tar.xz
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dist=${1:-dist}
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
build=${GNNREC_DIST_BUILD_DIR:-build-dist}
archs=${CUDA_ARCHS:-80;90}
data_src=${GNNREC_DATA_DIR:-$root/../shared/data}
datasets=${GNNREC_DIST_DATA-amazon-gift-cards-2018 amazon-magazine-subscriptions-2018}

case "$dist" in
  "$root" | / | "$HOME") echo "package: refusing to use $dist as the dist folder" >&2; exit 2 ;;
esac

step() { printf '\n== package: %s\n' "$*"; }

step "configure $build (Release, CUDA ${GNNREC_CUDA:-ON}, archs $archs, shared project libs)"
rpath='$ORIGIN/../lib:/usr/local/cuda/lib64:/usr/local/cuda/lib'
cmake -S . -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DGNNREC_CUDA="${GNNREC_CUDA:-ON}" \
  -DCMAKE_CUDA_ARCHITECTURES="$archs" \
  -DBUILD_SHARED_LIBS=ON \
  -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON \
  -DCMAKE_INSTALL_RPATH="$rpath" \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,--disable-new-dtags" \
  -DCMAKE_SHARED_LINKER_FLAGS="-Wl,--disable-new-dtags" \
  -DCMAKE_INSTALL_PREFIX="$dist" >/dev/null

build=$(cd "$build" && pwd)
step "build (-j${GNNREC_JOBS:-2})"
cmake --build "$build" -j "${GNNREC_JOBS:-2}"

step "install into $dist"
rm -rf "$dist/bin" "$dist/lib" "$dist/share"
cmake --install "$build" --strip >/dev/null
cmake --install "$build" --strip --component tests >/dev/null
mkdir -p "$dist/lib" "$dist/share/gnnrec"

# Libraries the GPU machine provides (or that must come from its system): never copied.
is_system_lib() {
  case "$1" in
    linux-vdso.so* | ld-linux*.so* | libc.so* | libm.so* | libpthread.so* | libdl.so* | \
      librt.so* | libresolv.so* | libutil.so* | libstdc++.so* | libgcc_s.so*) return 0 ;;
  esac
  return 1
}
is_cuda_lib() {
  case "$1" in
    libcuda.so* | libcudart.so* | libcublas.so* | libcublasLt.so* | libcusparse.so* | \
      libcusolver.so* | libcufft.so* | libcurand.so* | libnccl.so* | libnvrtc*.so* | \
      libnvJitLink.so* | libnvToolsExt.so* | libcupti.so* | libnvidia-*.so*) return 0 ;;
  esac
  return 1
}

step "collect shared libraries (ldd)"
# The project's own shared libraries live in the build tree until copied; let ldd find them.
proj_dirs=$(find "$build" -name '*.so' -printf '%h\n' | sort -u | tr '\n' ':')
objects=("$dist"/bin/*)
copied=0
for pass in 1 2; do  # pass 2 scans the copied libraries too (their own dependencies)
  for obj in "${objects[@]}"; do
    while read -r name arrow path _; do
      [ "$arrow" = "=>" ] || continue
      is_system_lib "$name" && continue
      is_cuda_lib "$name" && continue
      [ -e "$dist/lib/$name" ] && continue
      if [ "$path" = "not" ]; then
        echo "package: $obj needs $name, which ldd cannot find" >&2
        exit 1
      fi
      cp -L "$path" "$dist/lib/$name"
      chmod u+w "$dist/lib/$name"
      case "$path" in "$root"/*) strip --strip-unneeded "$dist/lib/$name" ;; esac
      echo "  $name  <-  $path"
      copied=$((copied + 1))
    done < <(LD_LIBRARY_PATH="$proj_dirs" ldd "$obj" 2>/dev/null || true)
  done
  objects=("$dist"/lib/*)
done
echo "  $copied libraries copied"

step "scripts, Python tests and data into share/gnnrec"
share="$dist/share/gnnrec"
cp bench/gpu_check.sh bench/gowalla.sh bench/lightgcn_peer.py "$share/"
mkdir -p "$share/py" "$share/peers" "$share/profiling"
cp tests/py/*.py "$share/py/" 2>/dev/null || true
cp bench/peers/*.py "$share/peers/" 2>/dev/null || true
cp profiling/*.sh profiling/*.py "$share/profiling/" 2>/dev/null || true
for d in $datasets; do
  if [ -d "$data_src/$d" ]; then
    mkdir -p "$share/data"
    cp -r "$data_src/$d" "$share/data/"
  else
    echo "  (dataset $d not found under $data_src: not included)"
  fi
done
commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit+dirty"
  echo "  note: uncommitted changes are in this package (COMMIT says $commit)"
fi
echo "$commit" >"$share/COMMIT"
echo "$archs" >"$share/CUDA_ARCHS"

step "verify: every non-system library resolves inside $dist/lib"
# Programs are checked (ldd resolves their whole dependency tree through their DT_RPATH); for the
# libraries only our own need the RPATH, since the programs' DT_RPATH also serves theirs.
bad=0
for obj in "$dist"/bin/*; do
  while read -r name arrow path _; do
    [ "$arrow" = "=>" ] || continue
    is_system_lib "$name" && continue
    if is_cuda_lib "$name"; then continue; fi
    case "$(readlink -f "$path")" in
      "$dist/lib/"*) ;;
      *) echo "package: $obj: $name resolves to '$path', not inside $dist/lib" >&2; bad=1 ;;
    esac
  done < <(env -u LD_LIBRARY_PATH ldd "$obj" 2>/dev/null || true)
  if ! readelf -d "$obj" 2>/dev/null | grep -q "RPATH.*\$ORIGIN/../lib"; then
    echo "package: $obj has no RPATH \$ORIGIN/../lib" >&2
    bad=1
  fi
done
for obj in "$dist"/lib/libgnnrec*; do
  [ -e "$obj" ] || continue
  readelf -d "$obj" | grep -q "RPATH.*\$ORIGIN/../lib" || { echo "package: $obj lacks RPATH" >&2; bad=1; }
done
[ "$bad" -eq 0 ] || { echo "package: FAILED (see above)" >&2; exit 1; }
"$dist/bin/gnnrec" info >/dev/null || { echo "package: dist/bin/gnnrec does not start" >&2; exit 1; }
echo "  ok: $(ls "$dist/bin" | wc -l) programs, $(ls "$dist/lib" | wc -l) libraries, all resolved"

# What the target system must provide: the newest glibc / libstdc++ symbol versions used.
glibc=$(objdump -T "$dist"/bin/* "$dist"/lib/* 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
glibcxx=$(objdump -T "$dist"/bin/* "$dist"/lib/* 2>/dev/null | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1)
cudalibs=$(for f in "$dist"/bin/* "$dist"/lib/*; do readelf -d "$f" 2>/dev/null; done |
  grep -o 'Shared library: \[[^]]*\]' | sed 's/.*\[\(.*\)\]/\1/' | sort -u |
  while read -r n; do if is_cuda_lib "$n"; then printf '%s ' "$n"; fi; done)
echo "  needs from the target system: $glibc, $glibcxx, CUDA libs: ${cudalibs:-none}"

step "sizes"
du -sh "$dist"/lib/* | sort -h | tail -5 | sed 's/^/  /'
total_kib=$(du -sk "$dist" | cut -f1)
echo "  total $(du -sh "$dist" | cut -f1) ($dist)"
if [ "$total_kib" -gt $((40 * 1024)) ]; then
  echo "  note: over the 40 MiB target (the carry limit is 64 MiB for everything carried)"
fi
if [ -e "$dist/lib/libopenblas.so.0" ]; then
  echo "  note: libopenblas.so.0 is Debian's DYNAMIC_ARCH build (kernels for every x86 CPU);" \
    "it is most of lib/"
fi
if [ "${GNNREC_DIST_TAR:-0}" = 1 ]; then
  tar -C "$(dirname "$dist")" -cJf "$dist.tar.xz" "$(basename "$dist")"
  echo "  wrote $dist.tar.xz ($(du -sh "$dist.tar.xz" | cut -f1))"
fi
echo "package: done"
