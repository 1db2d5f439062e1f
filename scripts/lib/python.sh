# Sourced by the scripts that need a Python other than the default python3.
# python_of X.Y: the path of a CPython X.Y, Debian's pythonX.Y or pyenv's; fails in one line.
python_of() {
    local want=$1 candidate
    for candidate in "python$want" "$(pyenv root 2>/dev/null)/versions/$want".*/bin/python"$want"; do
        if [ "$("$candidate" -c 'import sys; print(*sys.version_info[:2], sep=".")' 2>/dev/null)" = "$want" ]; then
            command -v "$candidate"
            return
        fi
    done
    echo "${0##*/}: no Python $want found (Debian's python$want or pyenv's); LOWEST_PYTHON or NEWEST_PYTHON names one" >&2
    return 1
}

# newest_python: the newest CPython 3 on this machine (python3.N on PATH or pyenv's), by X.Y.
newest_python() {
    local minor
    for minor in $(seq 20 -1 10); do
        python_of "3.$minor" 2>/dev/null && return
    done
    echo "${0##*/}: no python3.10 or newer found; NEWEST_PYTHON names one" >&2
    return 1
}
