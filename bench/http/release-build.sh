# Sourced by bench/http/run and bench/http/profile: the one way they build the lessons they measure.
# release_build ROOT BUILD_DIR LESSONS TARGET...: builds TARGETs (Release, -O2) of the lessons LESSONS (a CMake
# list, e.g. "06-http-workers;07-zero-downtime-reload") into BUILD_DIR; on failure prints the log's end and
# returns 1. The presets build Debug, so the benchmarks get a build folder of their own.
# -O2, not -O3: g++ 12 at -O3 gives a false -Wstringop-overflow on std::string concatenation, an error under the
# kit's -Werror.
release_build() {
  local root=$1 build_dir=$2 lessons=$3
  shift 3
  mkdir -p "$build_dir"
  if ! { cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
           -DCLUSTERKIT_TESTS=OFF -DCLUSTERKIT_BENCH=OFF -DCLUSTERKIT_LESSONS="$lessons" &&
         cmake --build "$build_dir" --target "$@" -j 2; } >"$build_dir/build.log" 2>&1; then
    tail -n 20 "$build_dir/build.log" >&2
    echo "error: building $* failed (whole log: $build_dir/build.log)" >&2
    return 1
  fi
}
