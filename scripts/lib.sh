# Shared by scripts/farm and scripts/test: installs what a fresh machine lacks and builds the jars.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATASET_DIR=/usr/share/datasets/fashion-mnist
CLASSPATH_FILE="$ROOT/infra/stack/target/classpath.txt"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  echo "installing $* (apt-get)" >&2
  as_root apt-get update -qq >&2 || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# ND4J's oneDNN build for this CPU: AVX-512 by default, the avx2 profile where the CPU lacks it.
MVN_PROFILES=()
if ! grep -q avx512f /proc/cpuinfo 2>/dev/null; then MVN_PROFILES=(-Pavx2); fi

ensure_tools() {
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  # the worker draws its figures (the rate-distortion plot) in DejaVu Sans
  [ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
  command -v fc-list >/dev/null || missing+=(fontconfig)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

ensure_dataset() {
  if [ ! -f "$DATASET_DIR/train-images-idx3-ubyte.gz" ]; then apt_install dataset-fashion-mnist; fi
}

# The web page's browser test drives Debian's headless Chromium through its chromedriver.
ensure_browser() {
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    apt_install chromium chromium-driver
  fi
}

# Builds and installs the modules when a source or pom is newer than the last build, then records the classpath.
ensure_build() {
  local stamp="$ROOT/infra/stack/target/.built"
  if [ -f "$stamp" ] && [ -f "$CLASSPATH_FILE" ] && \
     [ -z "$(find "$ROOT" -path "$ROOT/.git" -prune -o \( -name pom.xml -o -path '*/src/main/*' \) -newer "$stamp" -print -quit)" ]; then
    return
  fi
  echo "building (mvn install -DskipTests) ..." >&2
  (cd "$ROOT" && mvn -B -q -Dstyle.color=never "${MVN_PROFILES[@]}" install -DskipTests >&2)
  # -am: with the modules in the reactor their ND4J classifier follows the profile (an installed pom would keep
  # the parent's AVX-512 default, which dies with SIGILL on a CPU without it)
  (cd "$ROOT" && mvn -B -q -Dstyle.color=never "${MVN_PROFILES[@]}" -pl infra/stack -am dependency:build-classpath -DincludeScope=runtime -Dmdep.outputFile="$CLASSPATH_FILE" >&2)
  touch "$stamp"
}

# ND4J allocates large native buffers per op: keep glibc from returning them to the OS after every call.
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-33554432}
export MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-17179869184}
# libnd4j's OpenMP threads spin 300,000 rounds after each native call by default, taking a core from the Java kernels
# (GroupNorm, SiLU) that run between the calls: a short spin made batch-64 forward passes ~14% faster (README, speed).
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-1000}
