# Sourced by the benchmarks' scripts: python_peers MODULE... installs,
# from Debian, the Python peers among scikit-learn (sklearn) and xgboost
# that /usr/bin/python3 cannot import yet. Debian's python3 is the one that
# has them; a pyenv python3 on the PATH may not.
python_peers() {
  local missing=()
  for m in "$@"; do
    /usr/bin/python3 -c "import $m" 2>/dev/null || missing+=("python3-$m")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o Acquire::Retries=3 update -qq
  apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
